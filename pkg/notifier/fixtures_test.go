package notifier

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// t0 stamps the generic payloads of the tests.
var t0 = time.Date(2026, 7, 14, 12, 0, 0, 0, time.UTC)

// testConfig posts with a short timeout and a fake clock.
func testConfig() Config {
	return Config{Timeout: 2 * time.Second, Clock: clocktesting.NewFakePassiveClock(t0)}
}

// request is what a receiver saw.
type request struct {
	path   string
	query  string
	header http.Header
	body   string
}

// receiver is an httptest server that records requests and answers status
// after delay.
type receiver struct {
	*httptest.Server
	status int
	answer string
	delay  time.Duration

	mu   sync.Mutex
	reqs []request
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, request{path: req.URL.Path, query: req.URL.RawQuery, header: req.Header.Clone(), body: string(body)})
	r.mu.Unlock()
	if r.delay > 0 {
		select {
		case <-time.After(r.delay):
		case <-req.Context().Done():
			return
		}
	}
	w.WriteHeader(r.status)
	_, _ = io.WriteString(w, r.answer)
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

// newRevisionMessage is the new-revision alert of podinfo.test with its
// metadata, as the controller hands it over.
func newRevisionMessage() Message {
	return Message{
		Name: "podinfo", Namespace: "test",
		Text:     "New revision detected, progressing canary analysis.",
		Severity: flaggerv1.SeverityInfo,
		Fields: []Field{
			{Name: "Cluster", Value: "prod-eu"},
			{Name: "Target", Value: "Deployment/podinfo.test"},
			{Name: "Failed checks threshold", Value: "5"},
			{Name: "Progress deadline", Value: "600s"},
			{Name: "Traffic routing", Value: "Weight step: 10 max: 50"},
		},
	}
}

// thresholdMessage is the rollback alert of podinfo.test.
func thresholdMessage() Message {
	return Message{Name: "podinfo", Namespace: "test", Text: "Failed checks threshold reached 5", Severity: flaggerv1.SeverityError}
}

// newCanary returns the podinfo.test canary, changed by opts.
func newCanary(opts ...func(*flaggerv1.Canary)) *flaggerv1.Canary {
	c := &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: flaggerv1.CanarySpec{
			TargetRef: flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Analysis:  &flaggerv1.CanaryAnalysis{},
		},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// withAlert adds an analysis.alerts entry for the provider namespace/name;
// an empty namespace means the canary's.
func withAlert(severity flaggerv1.AlertSeverity, namespace, name string) func(*flaggerv1.Canary) {
	return func(c *flaggerv1.Canary) {
		c.Spec.Analysis.Alerts = append(c.Spec.Analysis.Alerts, flaggerv1.CanaryAlert{
			Name: name, Severity: severity,
			ProviderRef: flaggerv1.CrossNamespaceObjectReference{Name: name, Namespace: namespace},
		})
	}
}

// newProvider returns an AlertProvider, changed by opts.
func newProvider(namespace, name, typ, address string, opts ...func(*flaggerv1.AlertProvider)) *flaggerv1.AlertProvider {
	p := &flaggerv1.AlertProvider{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       flaggerv1.AlertProviderSpec{Type: typ, Address: address},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func withSecretRef(name string) func(*flaggerv1.AlertProvider) {
	return func(p *flaggerv1.AlertProvider) {
		p.Spec.SecretRef = &flaggerv1.LocalObjectReference{Name: name}
	}
}

func newSecret(namespace, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

// newIndexer returns an indexer holding objs, for the generated listers.
func newIndexer(t *testing.T, objs ...any) cache.Indexer {
	t.Helper()
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, o := range objs {
		if err := idx.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	return idx
}
