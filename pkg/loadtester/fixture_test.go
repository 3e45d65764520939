package loadtester

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/pkg/webhook"
)

// fixture is a load tester behind an httptest server.
type fixture struct {
	srv *Server
	url string
	reg *prometheus.Registry
}

// withConfig changes the fixture's Config.
type withConfig func(*Config)

func newFixture(t *testing.T, opts ...withConfig) *fixture {
	t.Helper()
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	cfg := Config{Logger: logrus.NewEntry(logger), Registry: prometheus.NewRegistry()}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := NewServer(cfg)
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &fixture{srv: srv, url: hs.URL, reg: cfg.Registry}
}

// post sends body (a string as is, anything else as JSON) and returns the
// status and body of the response.
func (f *fixture) post(t *testing.T, path string, body any) (int, string) {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	case nil:
	default:
		var err error
		b, err = json.Marshal(v)
		require.NoError(t, err)
	}
	resp, err := http.Post(f.url+path, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(out)
}

func (f *fixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(f.url + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(out)
}

// metricValue reads a counter or gauge series from the fixture's registry;
// labels are name=value pairs the series must have. A series never
// written reads 0.
func (f *fixture) metricValue(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	families, err := f.reg.Gather()
	require.NoError(t, err)
	for _, fam := range families {
		if fam.GetName() != name {
			continue
		}
	series:
		for _, m := range fam.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// canary is a payload for canary podinfo in test with metadata key=value pairs.
func canary(kv ...string) webhook.Payload {
	return canaryIn("test", "podinfo", kv...)
}

func canaryIn(namespace, name string, kv ...string) webhook.Payload {
	p := webhook.Payload{Name: name, Namespace: namespace, Phase: "Progressing", Checksum: "abc"}
	if len(kv) > 0 {
		p.Metadata = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Metadata[kv[i]] = kv[i+1]
		}
	}
	return p
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
