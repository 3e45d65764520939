package crash

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"k8s.io/utils/clock"
)

// onlineQuery is the query the operator probes a provider with.
const onlineQuery = "vector(1)"

// promServer answers the Prometheus HTTP API's instant queries: a judge's
// per-arm counter query (one that names a deployment) from the arm's
// counters, any other with the scenario's error rate for the image the
// target runs at that moment. It remembers which target images were
// queried: the evidence that a template went through the analysis.
type promServer struct {
	*httptest.Server
	mu      sync.Mutex
	queried map[string]int
}

func newPrometheus(act *activity, clk clock.PassiveClock, target func() string, errorRate func(image string) float64,
	arms *armCounters) *promServer {
	p := &promServer{queried: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		defer act.begin()()
		query := req.FormValue("query")
		value := 1.0
		if strings.TrimSpace(query) != onlineQuery {
			img := target()
			p.mu.Lock()
			p.queried[img]++
			p.mu.Unlock()
			value = 0
			if v, ok := arms.answer(query, clk.Now()); ok {
				value = v
			} else if errorRate != nil {
				value = errorRate(img)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1764914400,"%g"]}]}}`, value)
	}))
	return p
}

// wasQueried reports whether the metrics were asked about image.
func (p *promServer) wasQueried(image string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queried[image] > 0
}

// hooks is the webhook receiver of a run: every hook URL is
// <server>/<hook name>, and the scenario decides the answers.
type hooks struct {
	*httptest.Server
	mu    sync.Mutex
	calls map[string]int
}

// newHooks starts the receiver; answer returns the status code of a call
// of the hook named name (200 when nil).
func newHooks(act *activity, answer func(name string) int) *hooks {
	h := &hooks{calls: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		defer act.begin()()
		name := strings.TrimPrefix(req.URL.Path, "/")
		var payload struct {
			Phase string `json:"phase"`
		}
		_ = json.NewDecoder(req.Body).Decode(&payload)
		h.mu.Lock()
		h.calls[name]++
		h.mu.Unlock()
		code := http.StatusOK
		if answer != nil {
			code = answer(name)
		}
		w.WriteHeader(code)
	}))
	return h
}

// url is the URL of the hook named name.
func (h *hooks) url(name string) string {
	return h.URL + "/" + name
}
