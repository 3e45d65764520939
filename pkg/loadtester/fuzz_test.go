package loadtester

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/pkg/webhook"
)

// fuzzServer is a load tester whose logs go nowhere.
func fuzzServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	cfg.Logger = logrus.NewEntry(logger)
	cfg.Registry = prometheus.NewRegistry()
	srv, err := NewServer(cfg)
	require.NoError(t, err)
	return srv
}

// serve sends body to path through the server's real handler.
func serve(srv *Server, path string, body []byte) (int, string) {
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body))))
	return w.Code, w.Body.String()
}

// payloadSeeds are webhook bodies for the seed corpora: Flagger's payloads,
// and the near misses a handler must refuse.
func payloadSeeds() []string {
	valid, _ := json.Marshal(canary("type", "cmd", "cmd", "hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/"))
	return []string{
		string(valid),
		`{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"abc","metadata":{"type":"bash","cmd":"curl -s http://podinfo-canary:9898/ | grep ok"}}`,
		`{"name":"podinfo","namespace":"test","metadata":{"type":"kubectl","cmd":"get pods -l 'app=podinfo'"}}`,
		`{"name":"podinfo","namespace":"test","metadata":{"type":"helmv3","cmd":"helm test podinfo"}}`,
		`{"name":"podinfo","namespace":"test","metadata":{"type":"ngrinder","cmd":"x"}}`,
		`{"name":"podinfo","namespace":"test","metadata":{"cmd":"hey -q NaN http://x/"}}`,
		`{"name":"podinfo","namespace":"test","metadata":{"cmd":"echo $(id); 'unterminated"}}`,
		`{"name":"podinfo","namespace":"test","metadata":{"type":"cmd"}}`,
		`{"name":"podinfo","namespace":"test"}`, `{"name":"podinfo"}`, `{"namespace":"test"}`, `{}`, ``, `null`, `[]`,
		`{"name":1}`, `{"name":"a","namespace":"b","metadata":{"x":null}}`, `{"name":"\u0000","namespace":"kube-system"}`,
		`{"name":"a","namespace":"b"}{"name":"c"}`, `{"name":"a","namespace":"b",`, "\xff\xfe",
	}
}

// FuzzGateHandlers sends arbitrary bodies to the gate endpoints. Every
// answer is one of the documented ones (never a 5xx with the in-memory
// state, never a panic); a body is refused with 400 exactly when it does not
// decode into a payload naming its canary, and with 403 when its namespace
// is not allowed; an accepted one behaves like a gate: open, checked open,
// closed, checked closed, and the promotion and rollback gates of a canary
// never share their state.
func FuzzGateHandlers(f *testing.F) {
	for _, s := range payloadSeeds() {
		f.Add([]byte(s))
	}
	allowed := regexp.MustCompile(`^(test|prod-.*)$`)
	f.Fuzz(func(t *testing.T, body []byte) {
		srv := fuzzServer(t, Config{NamespaceRegexp: allowed})
		var p webhook.Payload
		decoded := json.Unmarshal(body, &p) == nil && p.Name != "" && p.Namespace != ""

		code, _ := serve(srv, "/gate/check", body)
		switch {
		case !decoded:
			require.Equal(t, http.StatusBadRequest, code, "an undecodable or anonymous payload")
			for _, path := range []string{"/gate/open", "/gate/close", "/rollback/check", "/rollback/open", "/rollback/close"} {
				code, _ := serve(srv, path, body)
				require.Equal(t, http.StatusBadRequest, code, path)
			}
			require.Empty(t, srv.gates.Open(), "a refused payload changed a gate")
			return
		case !allowed.MatchString(p.Namespace):
			require.Equal(t, http.StatusForbidden, code, "namespace %q is not allowed", p.Namespace)
			code, _ = serve(srv, "/gate/open", body)
			require.Equal(t, http.StatusForbidden, code, "namespace %q is not allowed", p.Namespace)
			require.Empty(t, srv.gates.Open(), "a refused payload changed a gate")
			return
		}
		require.Equal(t, http.StatusForbidden, code, "a gate starts closed")
		for _, step := range []struct {
			path string
			want int
		}{
			{"/gate/open", http.StatusAccepted},
			{"/gate/check", http.StatusOK},
			{"/rollback/check", http.StatusForbidden},
			{"/rollback/open", http.StatusAccepted},
			{"/gate/close", http.StatusAccepted},
			{"/gate/check", http.StatusForbidden},
			{"/rollback/check", http.StatusOK},
			{"/rollback/close", http.StatusAccepted},
			{"/rollback/check", http.StatusForbidden},
		} {
			code, out := serve(srv, step.path, body)
			require.Equal(t, step.want, code, "%s: %s", step.path, out)
		}
		require.Empty(t, srv.gates.Open(), "every gate was closed again")
	})
}

// FuzzTaskHandler sends arbitrary bodies to the task endpoint of a load
// tester that is shutting down, with and without an allow-list: every
// parsing step runs (payload, metadata, allow-list, hey flags, kubectl
// words), and no command ever does. The answer is always one of the
// documented refusals: 400 for a bad request, 403 only for a command the
// allow-list rejects, 500 only for a kubectl or helm binary that is missing,
// and 503 for a well-formed task refused because of the shutdown.
func FuzzTaskHandler(f *testing.F) {
	for _, s := range payloadSeeds() {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, restricted bool) {
		cfg := Config{}
		if restricted {
			cfg.AllowCmd = []string{"hey", "curl -s", "kubectl get", "helm test"}
		}
		srv := fuzzServer(t, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))

		code, out := serve(srv, "/", body)
		switch code {
		case http.StatusBadRequest, http.StatusServiceUnavailable:
		case http.StatusForbidden:
			require.True(t, restricted, "403 without an allow-list: %s", out)
			require.True(t, strings.HasPrefix(out, "command not allowed by -allow-cmd: "), out)
		case http.StatusInternalServerError:
			require.Contains(t, out, " not found: install it", "500 for anything but a missing binary")
		default:
			require.Failf(t, "unexpected answer", "%d %s", code, out)
		}
		var p webhook.Payload
		if json.Unmarshal(body, &p) != nil || p.Name == "" || p.Namespace == "" || p.Metadata["cmd"] == "" {
			require.Equal(t, http.StatusBadRequest, code, "a task without a canary or a command: %s", out)
		}
		require.Zero(t, srv.tasks.isRunning(taskKey{canary: p.Namespace + "/" + p.Name, command: p.Metadata["cmd"]}),
			"a task started during shutdown")
	})
}
