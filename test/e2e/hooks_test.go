package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/serin-dev/serin/pkg/webhook"
)

// hookServer stands in for the load tester at the seed's webhook URLs: it
// answers 200 and remembers what it was sent, per canary namespace.
type hookServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls map[string][]webhook.Payload
}

func newHookServer() *hookServer {
	h := &hookServer{calls: map[string][]webhook.Payload{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.calls[p.Namespace] = append(h.calls[p.Namespace], p)
		h.mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	return h
}

// URL is the address that replaces http://flagger-loadtester.test/.
func (h *hookServer) URL() string { return h.srv.URL + "/" }

// Close stops the server.
func (h *hookServer) Close() { h.srv.Close() }

// payloads returns the payloads received for a namespace.
func (h *hookServer) payloads(namespace string) []webhook.Payload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhook.Payload(nil), h.calls[namespace]...)
}
