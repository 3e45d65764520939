package integration

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// apiSpy sits between an operator and the API server, on the requests of
// one namespace: it counts what the tests assert on and can slow down the
// answers to the operator's writes to its canaries.
type apiSpy struct {
	namespace string
	// canaryWriteDelay holds back the answer to every update or patch of a
	// canary, after the API server has carried it out, so that the watch
	// event of the write reaches the operator before the answer does.
	canaryWriteDelay time.Duration

	// refusedCreates counts the creates (Events aside) that the API server
	// refused with 403 Forbidden.
	refusedCreates atomic.Int64
	// requests counts the requests other than watches.
	requests atomic.Int64
}

// wrap is a rest.Config WrapTransport.
func (s *apiSpy) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		path := req.URL.Path
		if !strings.Contains(path, "/namespaces/"+s.namespace+"/") {
			return resp, err
		}
		if req.URL.Query().Get("watch") != "true" {
			s.requests.Add(1)
		}
		if err != nil {
			return resp, err
		}
		if req.Method == http.MethodPost && resp.StatusCode == http.StatusForbidden && !strings.Contains(path, "/events") {
			s.refusedCreates.Add(1)
		}
		if (req.Method == http.MethodPut || req.Method == http.MethodPatch) && strings.Contains(path, "/canaries/") {
			time.Sleep(s.canaryWriteDelay)
		}
		return resp, err
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
