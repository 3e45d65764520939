package crash

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// mode is how the k-th write of a release is interrupted.
type mode int

const (
	// faultless runs the release without a fault: the reference run.
	faultless mode = iota
	// fail answers the k-th write with a 500 without applying it; the
	// same operator goes on (its retries, its in-memory state).
	fail
	// kill applies the k-th write, then kills the operator: its
	// transport refuses every later request, its context is cancelled and
	// nothing of it is kept; a fresh operator (fresh informers, fresh
	// controller) takes over.
	kill
	// timeout applies the k-th write but loses its answer: the client
	// gets a timeout, as when the API server is slow, and the same
	// operator goes on not knowing whether the write happened.
	timeout
)

func (m mode) String() string {
	switch m {
	case fail:
		return "fail"
	case kill:
		return "kill"
	case timeout:
		return "timeout"
	}
	return "none"
}

// errKilled is what a dead operator's requests get.
var errKilled = errors.New("crash harness: the operator was killed")

// uncounted matches the writes that are not counted nor interrupted:
// Events (posted asynchronously by their own lanes, never read back by
// the state machine) and Leases (leader election, off in-process).
var uncounted = regexp.MustCompile(`/(events|leases)(/|$)`)

// watched matches the resources the harness watches, whose written
// versions it waits for before it calls a run quiet.
var watched = regexp.MustCompile(`/(deployments|daemonsets|httproutes|canaries)(/|$)`)

// writes counts a run's API writes (POST, PUT, PATCH, DELETE, but Events
// and Leases) across all its operators, and decides which one is
// interrupted.
type writes struct {
	mu sync.Mutex
	// counting is off while the canary is bootstrapped: k counts the
	// release's writes.
	counting bool
	log      []string
	// all counts every write, counted or not, to tell a quiet run.
	all   int
	mode  mode
	k     int
	fired bool
}

// arm starts counting, with the fault to inject at write k.
func (w *writes) arm(m mode, k int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counting, w.mode, w.k = true, m, k
}

// count records a write and returns the fault to inject into it.
func (w *writes) count(desc string) mode {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all++
	if !w.counting {
		return faultless
	}
	w.log = append(w.log, desc)
	if w.mode != faultless && !w.fired && len(w.log) == w.k {
		w.fired = true
		return w.mode
	}
	return faultless
}

// snapshot returns the writes counted so far.
func (w *writes) snapshot() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.log...)
}

// total returns how many writes were made, counted or not.
func (w *writes) total() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all
}

// injected reports whether the fault was injected.
func (w *writes) injected() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fired
}

// life is one operator's: once dead, all its clients refuse everything.
type life struct {
	dead atomic.Bool
	// onKill cancels the operator; it runs once, on the killing write.
	onKill func()
}

// faultTransport wraps each client of one operator: it counts its writes
// in the run's log, injects the run's fault, and once the operator is
// killed refuses everything.
type faultTransport struct {
	next   http.RoundTripper
	writes *writes
	act    *activity
	life   *life
}

// RoundTrip implements http.RoundTripper.
func (t *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.life.dead.Load() {
		return nil, errKilled
	}
	done := t.act.begin()
	defer done()
	if !isWrite(req) {
		return t.next.RoundTrip(req)
	}
	switch t.writes.count(describe(req)) {
	case fail:
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return injected500(req), nil
	case timeout:
		resp, err := t.next.RoundTrip(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		return nil, fmt.Errorf("crash harness: the answer was lost: %w", context.DeadlineExceeded)
	case kill:
		resp, err := t.next.RoundTrip(req)
		if err == nil {
			// The write is committed once its answer starts.
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		t.life.dead.Store(true)
		t.life.onKill()
		return nil, errKilled
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil && req.Method != http.MethodDelete {
		if m := watched.FindStringSubmatch(req.URL.Path); m != nil {
			resp.Body = t.noteVersion(m[1], resp.Body)
		}
	}
	return resp, err
}

// noteVersion reads a written object's resourceVersion from the answer,
// for the run's quiescence, and returns the body to read again.
func (t *faultTransport) noteVersion(resource string, body io.ReadCloser) io.ReadCloser {
	data, err := io.ReadAll(body)
	_ = body.Close()
	var obj struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err == nil && json.Unmarshal(data, &obj) == nil {
		if rv, perr := strconv.ParseUint(obj.Metadata.ResourceVersion, 10, 64); perr == nil {
			t.act.wrote(resource, rv)
		}
	}
	return io.NopCloser(bytes.NewReader(data))
}

func isWrite(req *http.Request) bool {
	switch req.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return !uncounted.MatchString(req.URL.Path)
	}
	return false
}

// describe names a write for the reports: its method and its path from
// the resource on, e.g. "PATCH canaries/podinfo/status".
func describe(req *http.Request) string {
	path := req.URL.Path
	if i := strings.Index(path, "/namespaces/"); i >= 0 {
		rest := strings.SplitN(path[i+len("/namespaces/"):], "/", 2)
		if len(rest) == 2 {
			path = rest[1]
		}
	}
	return req.Method + " " + path
}

// injected500 is the API server's answer to a failed write.
func injected500(req *http.Request) *http.Response {
	body := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",` +
		`"message":"crash harness: injected failure","reason":"InternalError","code":500}`
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", http.StatusInternalServerError, http.StatusText(http.StatusInternalServerError)),
		StatusCode:    http.StatusInternalServerError,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": []string{"application/json"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
