package events_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned/scheme"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/events"
	"github.com/serin-dev/serin/test/lib/must"
)

// waitFor is how long a test waits for events that should arrive at once.
const waitFor = 10 * time.Second

// canary is a Canary to record events about.
func canary(i int) *flaggerv1.Canary {
	return &flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{
		Name: fmt.Sprintf("app-%d", i), Namespace: "test", UID: types.UID(fmt.Sprintf("uid-%d", i))}}
}

// harness is a Recorder on a fake clientset, its metrics and its logs.
type harness struct {
	kube     *fake.Clientset
	recorder *events.Recorder
	registry *prometheus.Registry
	logs     *logtest.Hook
}

// config is a Config with short retries, the way the tests run it.
func config(kube *fake.Clientset, opts ...func(*events.Config)) events.Config {
	cfg := events.Config{
		Client:       kube,
		Scheme:       scheme.Scheme,
		Component:    "flagger",
		Correlator:   controller.EventCorrelatorOptions(), // as cmd/serin runs it
		Lanes:        8,
		Backoff:      time.Millisecond,
		MaxBackoff:   4 * time.Millisecond,
		DrainTimeout: 5 * time.Second,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	return cfg
}

// start runs a Recorder until the test ends.
func start(t *testing.T, opts ...func(*events.Config)) *harness {
	t.Helper()
	return startWith(t, t.Context(), opts...)
}

// startWith runs a Recorder until ctx or the test ends.
func startWith(t *testing.T, ctx context.Context, opts ...func(*events.Config)) *harness {
	t.Helper()
	kube := fake.NewClientset()
	logger, hook := logtest.NewNullLogger()
	logger.SetOutput(io.Discard)
	logger.SetLevel(logrus.DebugLevel)
	cfg := config(kube, append([]func(*events.Config){func(c *events.Config) { c.Logger = logrus.NewEntry(logger) }}, opts...)...)
	h := &harness{kube: kube, recorder: events.New(ctx, cfg), registry: prometheus.NewPedanticRegistry(), logs: hook}
	h.registry.MustRegister(h.recorder.Collectors()...)
	t.Cleanup(h.recorder.Shutdown)
	return h
}

// list returns the Events of the test namespace.
func (h *harness) list(t *testing.T) []corev1.Event {
	t.Helper()
	list, err := h.kube.CoreV1().Events("test").List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	return list.Items
}

// waitEvents waits until n Events are listed.
func (h *harness) waitEvents(t *testing.T, n int) []corev1.Event {
	t.Helper()
	var items []corev1.Event
	must.Eventually(t, waitFor, 5*time.Millisecond, func() (bool, error) {
		items = h.list(t)
		return len(items) == n, fmt.Errorf("%d events", len(items))
	}, "%d events", n)
	return items
}

// metric is the value of a counter or gauge, of the series with the given
// result label if one is given.
func (h *harness) metric(t *testing.T, name, result string) float64 {
	t.Helper()
	families, err := h.registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if result != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != result) {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no metric %s{result=%q}", name, result)
	return 0
}

// waitMetric waits until a metric has the value want: it is counted just
// after the Event is written.
func (h *harness) waitMetric(t *testing.T, name, result string, want float64) {
	t.Helper()
	must.Eventually(t, waitFor, 5*time.Millisecond, func() (bool, error) {
		got := h.metric(t, name, result)
		return got == want, fmt.Errorf("%v", got)
	}, "%s{result=%q} %v", name, result, want)
}

// onCreate runs react on every create of an Event before the clientset
// stores it; react's error, if any, is the answer instead.
func (h *harness) onCreate(react func(ev *corev1.Event) error) {
	h.kube.PrependReactor("create", "events", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if err := react(a.(k8stesting.CreateAction).GetObject().(*corev1.Event)); err != nil {
			return true, nil, err
		}
		return false, nil, nil
	})
}

// calls counts calls by message.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) add(message string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[message]++
	return c.n[message]
}

func (c *calls) get(message string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[message]
}

// gate blocks the creates until it is opened; it opens when the test ends.
type gate struct {
	open chan struct{}
	once sync.Once
}

func newGate(t *testing.T) *gate {
	g := &gate{open: make(chan struct{})}
	t.Cleanup(g.release)
	return g
}

func (g *gate) block(*corev1.Event) error {
	<-g.open
	return nil
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// dropLogs are the logs of dropped events.
func dropLogs(h *harness) []*logrus.Entry {
	var drops []*logrus.Entry
	for _, entry := range h.logs.AllEntries() {
		if _, ok := entry.Data["dropped"]; ok {
			drops = append(drops, entry)
		}
	}
	return drops
}
