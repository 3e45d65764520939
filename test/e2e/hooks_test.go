package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/serin-dev/serin/pkg/webhook"
)

// Gate paths: a webhook URL under one of these prefixes (followed by the
// scenario's namespace) answers 403 until the test opens it, like the load
// tester's /gate/check and /rollback/check. Any other path answers 200.
const (
	gatePrefix     = "/gate/"
	rollbackPrefix = "/rollback/"
)

// hookCall is one webhook request: the path it was sent to and its payload.
type hookCall struct {
	Path    string
	Payload webhook.Payload
}

// hookServer stands in for the load tester at the seed's webhook URLs: it
// answers 200 on "/" (and any path not closed), 403 on a gate or rollback
// path until it is opened, and remembers what it was sent, per canary
// namespace.
type hookServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls map[string][]hookCall
	// status overrides the answer of a path; set by open and close.
	status map[string]int
}

func newHookServer() *hookServer {
	h := &hookServer{calls: map[string][]hookCall{}, status: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.calls[p.Namespace] = append(h.calls[p.Namespace], hookCall{Path: r.URL.Path, Payload: p})
		code := h.statusOf(r.URL.Path)
		h.mu.Unlock()
		if code != http.StatusOK {
			http.Error(w, "closed", code)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	return h
}

// statusOf is the answer for a path; h.mu must be held.
func (h *hookServer) statusOf(path string) int {
	if code, ok := h.status[path]; ok {
		return code
	}
	if strings.HasPrefix(path, gatePrefix) || strings.HasPrefix(path, rollbackPrefix) {
		return http.StatusForbidden
	}
	return http.StatusOK
}

// URL is the address that replaces http://flagger-loadtester.test/.
func (h *hookServer) URL() string { return h.srv.URL + "/" }

// pathURL is the address of a path on the server, e.g. pathURL("/gate/ns").
func (h *hookServer) pathURL(path string) string { return h.srv.URL + path }

// open makes a path answer 200.
func (h *hookServer) open(path string) { h.set(path, http.StatusOK) }

// close makes a path answer 403.
func (h *hookServer) close(path string) { h.set(path, http.StatusForbidden) }

func (h *hookServer) set(path string, code int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status[path] = code
}

// Close stops the server.
func (h *hookServer) Close() { h.srv.Close() }

// payloads returns the payloads received for a namespace.
func (h *hookServer) payloads(namespace string) []webhook.Payload {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []webhook.Payload
	for _, c := range h.calls[namespace] {
		out = append(out, c.Payload)
	}
	return out
}

// callsTo returns the calls received for a namespace on a path.
func (h *hookServer) callsTo(namespace, path string) []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookCall
	for _, c := range h.calls[namespace] {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}
