package metrics

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	externalv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
)

func TestParseExternalMetricsQuery(t *testing.T) {
	tests := map[string]struct {
		query                       string
		namespace, metric, selector string
		wantError                   string
	}{
		"metric only":          {query: "queue-depth", namespace: "default", metric: "queue-depth", selector: ""},
		"namespace and metric": {query: "test/queue-depth", namespace: "test", metric: "queue-depth"},
		"empty namespace":      {query: "/queue-depth", namespace: "default", metric: "queue-depth"},
		"surrounding space":    {query: "  test/q\n", namespace: "test", metric: "q"},
		"encoded label selector": {query: "test/q?labelSelector=app%3Dpodinfo%2Ctier%20in%20(a%2Cb)",
			namespace: "test", metric: "q", selector: "app=podinfo,tier in (a,b)"},
		"other parameters are ignored": {query: "q?foo=bar", namespace: "default", metric: "q"},
		"too many slashes":             {query: "a/b/c", wantError: "too many slashes"},
		"no metric":                    {query: "test/", wantError: "metric name cannot be empty"},
		"empty":                        {query: "", wantError: "metric name cannot be empty"},
		"bad selector":                 {query: "q?labelSelector=app%3D%3D%3D", wantError: "error parsing label selector"},
		"bad escape in the path":       {query: "te%zzst/q", wantError: "malformed query string"},
		"bad escape in the selector":   {query: "q?labelSelector=%zz", wantError: "malformed query parameters"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			q, err := parseExternalMetricsQuery(tt.query)
			if tt.wantError != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantError)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.namespace, q.namespace)
			assert.Equal(t, tt.metric, q.metric)
			assert.Equal(t, tt.selector, q.selector.String())
		})
	}
}

// fakeExternalMetrics answers every list of external.metrics.k8s.io/v1beta1
// with one status and list, and records the requests.
type fakeExternalMetrics struct {
	status int
	items  []externalv1beta1.ExternalMetricValue

	mu       sync.Mutex
	requests []*http.Request
}

func (f *fakeExternalMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if f.status != http.StatusOK {
		w.WriteHeader(f.status)
		_ = json.NewEncoder(w).Encode(metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status:   metav1.StatusFailure, Code: int32(f.status), Reason: metav1.StatusReasonNotFound,
			Message: "the server could not find the metric",
		})
		return
	}
	_ = json.NewEncoder(w).Encode(externalv1beta1.ExternalMetricValueList{
		TypeMeta: metav1.TypeMeta{Kind: "ExternalMetricValueList", APIVersion: "external.metrics.k8s.io/v1beta1"},
		Items:    f.items,
	})
}

func (f *fakeExternalMetrics) last(t *testing.T) *http.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.requests)
	return f.requests[len(f.requests)-1]
}

func externalValue(name, quantity string) externalv1beta1.ExternalMetricValue {
	return externalv1beta1.ExternalMetricValue{MetricName: name, Value: resource.MustParse(quantity),
		Timestamp: metav1.Now()}
}

func newTestExternalMetrics(t *testing.T, f *fakeExternalMetrics, cfg ProviderConfig) (Provider, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if cfg.Cluster == nil {
		cfg.Cluster = &rest.Config{Host: srv.URL}
	}
	cfg.Type = TypeExternalMetrics
	p, err := NewProvider(cfg)
	require.NoError(t, err)
	return p, srv
}

func TestExternalMetricsRunQuery(t *testing.T) {
	tests := map[string]struct {
		status    int
		items     []externalv1beta1.ExternalMetricValue
		want      float64
		noValues  bool
		wantError string
	}{
		"one item": {status: 200, items: []externalv1beta1.ExternalMetricValue{externalValue("q", "42")}, want: 42},
		"a milli-quantity": {status: 200, items: []externalv1beta1.ExternalMetricValue{externalValue("q", "1500m")},
			want: 1.5},
		"a binary-suffixed quantity": {status: 200, items: []externalv1beta1.ExternalMetricValue{externalValue("q", "2Ki")},
			want: 2048},
		"the first of several items is taken, as in Flagger": {status: 200, want: 3,
			items: []externalv1beta1.ExternalMetricValue{externalValue("q", "3"), externalValue("q", "4")}},
		"no items is no values": {status: 200, noValues: true},
		"an API error":          {status: 404, wantError: "error querying external metrics API: the server could not find the metric"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakeExternalMetrics{status: tt.status, items: tt.items}
			p, _ := newTestExternalMetrics(t, f, ProviderConfig{})

			got, err := p.RunQuery(t.Context(), "test/q?labelSelector=app%3Dpodinfo", time.Time{})
			switch {
			case tt.noValues:
				require.ErrorIs(t, err, ErrNoValues)
			case tt.wantError != "":
				require.Error(t, err)
				assert.NotErrorIs(t, err, ErrNoValues)
				assert.Contains(t, err.Error(), tt.wantError)
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
			r := f.last(t)
			assert.Equal(t, "/apis/external.metrics.k8s.io/v1beta1/namespaces/test/q", r.URL.Path)
			assert.Equal(t, "app=podinfo", r.URL.Query().Get("labelSelector"))
		})
	}
}

func TestExternalMetricsBadQuery(t *testing.T) {
	f := &fakeExternalMetrics{status: 200}
	p, _ := newTestExternalMetrics(t, f, ProviderConfig{})

	_, err := p.RunQuery(t.Context(), "a/b/c", time.Time{})
	require.ErrorContains(t, err, "error parsing metric query: malformed query string, too many slashes")
	assert.Empty(t, f.requests)
}

func TestExternalMetricsCredentialsAndAddress(t *testing.T) {
	operator := &rest.Config{Host: "http://127.0.0.1:1", BearerToken: "operator"}
	tests := map[string]struct {
		credentials map[string][]byte
		useAddress  bool
		wantAuth    string
	}{
		"the operator's own credentials": {wantAuth: "Bearer operator"},
		"the secret's token replaces them": {credentials: map[string][]byte{"token": []byte("from-secret")},
			wantAuth: "Bearer from-secret"},
		"a secret without token changes nothing": {credentials: map[string][]byte{"other": []byte("x")},
			wantAuth: "Bearer operator"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakeExternalMetrics{status: 200, items: []externalv1beta1.ExternalMetricValue{externalValue("q", "1")}}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			// The operator's API server is unreachable: the address must win.
			p, err := NewProvider(ProviderConfig{Type: TypeExternalMetrics, Address: srv.URL,
				Credentials: tt.credentials, Cluster: operator})
			require.NoError(t, err)

			_, err = p.RunQuery(t.Context(), "q", time.Time{})
			require.NoError(t, err)
			assert.Equal(t, tt.wantAuth, f.last(t).Header.Get("Authorization"))
			assert.Equal(t, "operator", operator.BearerToken, "the operator's config is not changed")
		})
	}
}

func TestExternalMetricsInsecureSkipVerify(t *testing.T) {
	f := &fakeExternalMetrics{status: 200, items: []externalv1beta1.ExternalMetricValue{externalValue("q", "5")}}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	// A CA that did not sign the server's certificate: without
	// insecureSkipVerify the query fails, with it the CA is dropped.
	cluster := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: otherCA(t)}}

	strict, err := NewProvider(ProviderConfig{Type: TypeExternalMetrics, Cluster: cluster})
	require.NoError(t, err)
	_, err = strict.RunQuery(t.Context(), "q", time.Time{})
	require.ErrorContains(t, err, "certificate")

	insecure, err := NewProvider(ProviderConfig{Type: TypeExternalMetrics, Cluster: cluster, InsecureSkipVerify: true})
	require.NoError(t, err)
	got, err := insecure.RunQuery(t.Context(), "q", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 5.0, got)
}

// otherCA returns a fresh self-signed CA certificate in PEM.
func otherCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestExternalMetricsIsOnline(t *testing.T) {
	tests := map[string]struct {
		status int
		want   bool
	}{
		"a served API is online": {status: 200, want: true},
		"an error is offline":    {status: 404, want: false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakeExternalMetrics{status: tt.status}
			p, _ := newTestExternalMetrics(t, f, ProviderConfig{})

			ok, err := p.IsOnline(t.Context())
			assert.Equal(t, tt.want, ok)
			if tt.want {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, "external metrics service unavailable")
			}
			assert.Equal(t, "/apis/external.metrics.k8s.io/v1beta1", f.last(t).URL.Path)
		})
	}
}

func TestExternalMetricsNeedsACluster(t *testing.T) {
	_, err := NewProvider(ProviderConfig{Type: TypeExternalMetrics})
	require.ErrorContains(t, err, "externalmetrics needs the Kubernetes API server")
}
