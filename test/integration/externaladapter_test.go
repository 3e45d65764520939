package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	externalv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
)

// externalAdapter is a minimal external metrics adapter, the part of KEDA or
// the Prometheus adapter that the API server's aggregator proxies to: it
// serves the external.metrics.k8s.io/v1beta1 discovery document and lists
// of ExternalMetricValue filtered by the request's labelSelector, over TLS
// with a certificate for the Service name the aggregator verifies.
type externalAdapter struct {
	srv *httptest.Server
	// caPEM is the CA of the serving certificate, the APIService's caBundle.
	caPEM []byte

	mu     sync.Mutex
	values map[string][]externalv1beta1.ExternalMetricValue // by namespace/metric
	lists  int                                              // metric lists answered
}

var externalGroupVersion = externalv1beta1.SchemeGroupVersion.String()

// startExternalAdapter serves on 127.0.0.1 with a certificate for
// serverName (<service>.<namespace>.svc) and stops in t.Cleanup.
func startExternalAdapter(t *testing.T, serverName string) *externalAdapter {
	t.Helper()
	a := &externalAdapter{values: map[string][]externalv1beta1.ExternalMetricValue{}}
	cert, caPEM := servingCert(t, serverName)
	a.caPEM = caPEM
	a.srv = httptest.NewUnstartedServer(a)
	a.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

// port is the adapter's TCP port.
func (a *externalAdapter) port(t *testing.T) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(a.srv.Listener.Addr().String())
	require.NoError(t, err)
	port, err := strconv.ParseInt(p, 10, 32)
	require.NoError(t, err)
	return int32(port)
}

// set makes a metric of a namespace list these values.
func (a *externalAdapter) set(namespace, metric string, values ...externalv1beta1.ExternalMetricValue) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.values[namespace+"/"+metric] = values
}

// listed returns how many metric lists the adapter answered.
func (a *externalAdapter) listed() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lists
}

func (a *externalAdapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/apis/"+externalGroupVersion)
	if !ok || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	if rest == "" || rest == "/" {
		writeJSON(w, http.StatusOK, metav1.APIResourceList{
			TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
			GroupVersion: externalGroupVersion,
			APIResources: []metav1.APIResource{},
		})
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) != 3 || parts[0] != "namespaces" {
		http.NotFound(w, r)
		return
	}
	namespace, metric := parts[1], parts[2]
	selector, err := labels.Parse(r.URL.Query().Get("labelSelector"))
	if err != nil {
		writeStatus(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	values, known := a.values[namespace+"/"+metric]
	if !known {
		// As the Prometheus adapter and KEDA do for a metric they do not serve.
		writeStatus(w, apierrors.NewNotFound(schema.GroupResource{Group: externalv1beta1.GroupName, Resource: metric}, ""))
		return
	}
	a.lists++
	list := externalv1beta1.ExternalMetricValueList{
		TypeMeta: metav1.TypeMeta{Kind: "ExternalMetricValueList", APIVersion: externalGroupVersion},
		Items:    []externalv1beta1.ExternalMetricValue{},
	}
	for _, v := range values {
		if selector.Matches(labels.Set(v.MetricLabels)) {
			list.Items = append(list.Items, v)
		}
	}
	writeJSON(w, http.StatusOK, list)
}

func writeStatus(w http.ResponseWriter, err *apierrors.StatusError) {
	status := err.Status()
	status.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	writeJSON(w, int(status.Code), status)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// servingCert returns a certificate for serverName signed by a fresh CA,
// and the CA in PEM.
func servingCert(t *testing.T, serverName string) (tls.Certificate, []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "external-adapter-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: serverName},
		DNSNames: []string{serverName}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}
