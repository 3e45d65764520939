package hey

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a target that records what it receives and how many requests were in flight at
// most.
type recorder struct {
	delay    time.Duration
	status   int
	count    atomic.Int64
	inFlight atomic.Int64
	maxSeen  atomic.Int64

	mu   sync.Mutex
	last *http.Request
	body string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for {
		m := r.maxSeen.Load()
		if n <= m || r.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.last, r.body = req.Clone(context.Background()), string(b)
	r.mu.Unlock()
	r.count.Add(1)
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	if r.status != 0 {
		w.WriteHeader(r.status)
	}
}

func start(t *testing.T, r *recorder) string {
	t.Helper()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

func mustParse(t *testing.T, args ...string) Options {
	t.Helper()
	o, err := Parse(args)
	require.NoError(t, err)
	return o
}

func TestRunSendsExactlyN(t *testing.T) {
	rec := &recorder{}
	url := start(t, rec)
	for _, tc := range []struct{ n, c string }{{"10", "1"}, {"10", "3"}, {"7", "7"}} {
		rec.count.Store(0)
		res, err := Run(context.Background(), mustParse(t, "-n", tc.n, "-c", tc.c, url))
		require.NoError(t, err)
		want := map[string]int{"10": 10, "7": 7}[tc.n]
		assert.Equal(t, want, res.Requests, "-n %s -c %s", tc.n, tc.c)
		assert.Equal(t, int64(want), rec.count.Load())
		assert.Equal(t, map[int]int{200: want}, res.StatusCodes)
		assert.Zero(t, res.ErrorCount())
	}
}

func TestRunHonoursRequestOptions(t *testing.T) {
	rec := &recorder{status: http.StatusCreated}
	url := start(t, rec)
	res, err := Run(context.Background(), mustParse(t,
		"-n", "1", "-c", "1", "-m", "put", "-H", "X-Canary: insider", "-host", "app.example.com",
		"-d", "payload", "-T", "application/json", "-a", "user:pw", url+"path?q=1"))
	require.NoError(t, err)
	assert.Equal(t, map[int]int{201: 1}, res.StatusCodes)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, http.MethodPut, rec.last.Method)
	assert.Equal(t, "insider", rec.last.Header.Get("X-Canary"))
	assert.Equal(t, "app.example.com", rec.last.Host)
	assert.Equal(t, "application/json", rec.last.Header.Get("Content-Type"))
	assert.Equal(t, "hey/0.0.1", rec.last.Header.Get("User-Agent"))
	assert.Equal(t, "/path?q=1", rec.last.URL.RequestURI())
	assert.Equal(t, "payload", rec.body)
	user, pass, ok := rec.last.BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, "user", user)
	assert.Equal(t, "pw", pass)
}

func TestRunHostHeaderAndBodyFile(t *testing.T) {
	rec := &recorder{}
	url := start(t, rec)
	file := filepath.Join(t.TempDir(), "body")
	require.NoError(t, os.WriteFile(file, []byte("from file"), 0o600))
	_, err := Run(context.Background(), mustParse(t, "-n", "1", "-c", "1", "-H", "Host: h.example", "-d", "ignored", "-D", file, url))
	require.NoError(t, err)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, "h.example", rec.last.Host)
	assert.Equal(t, "from file", rec.body)

	_, err = Run(context.Background(), mustParse(t, "-n", "1", "-c", "1", "-D", file+".missing", url))
	assert.ErrorContains(t, err, "reading -D")
}

// A ticker never fires early, so a rate-limited run cannot finish sooner
// than its ticks allow: a lower bound on time that slowness cannot break.
func TestRunRateLimitsEachWorker(t *testing.T) {
	rec := &recorder{}
	url := start(t, rec)
	begin := time.Now()
	res, err := Run(context.Background(), mustParse(t, "-n", "10", "-c", "2", "-q", "20", url))
	require.NoError(t, err)
	assert.Equal(t, 10, res.Requests)
	// Each worker sends 5 requests, one per 50ms tick.
	assert.GreaterOrEqual(t, time.Since(begin), 240*time.Millisecond)
}

// The upper bound is what the limiter allows over the window, plus slack;
// the lower bound is generous enough for a starved machine.
func TestRunForDurationWithRate(t *testing.T) {
	rec := &recorder{}
	url := start(t, rec)
	res, err := Run(context.Background(), mustParse(t, "-z", "1s", "-c", "2", "-q", "20", url))
	require.NoError(t, err)
	assert.LessOrEqual(t, res.Requests, 2*21+2)
	assert.GreaterOrEqual(t, res.Requests, 5)
	assert.Equal(t, int64(res.Requests), rec.count.Load())
	assert.GreaterOrEqual(t, res.Elapsed, time.Second)
}

func TestRunConcurrency(t *testing.T) {
	rec := &recorder{delay: 50 * time.Millisecond}
	url := start(t, rec)
	res, err := Run(context.Background(), mustParse(t, "-n", "24", "-c", "4", url))
	require.NoError(t, err)
	assert.Equal(t, 24, res.Requests)
	assert.LessOrEqual(t, rec.maxSeen.Load(), int64(4))
	assert.GreaterOrEqual(t, rec.maxSeen.Load(), int64(2))
}

func TestRunCountsErrorsAndTimeouts(t *testing.T) {
	rec := &recorder{delay: 2 * time.Second}
	url := start(t, rec)
	o := mustParse(t, "-n", "2", "-c", "2", url)
	o.Timeout = 50 * time.Millisecond
	res, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Requests)
	assert.Equal(t, 2, res.ErrorCount())
	assert.Empty(t, res.StatusCodes)
	assert.Contains(t, res.String(), "Error distribution")
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	rec := &recorder{}
	url := start(t, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := Run(ctx, mustParse(t, "-z", "1h", "-c", "2", "-q", "50", url))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(begin), 10*time.Second)
}

func TestResultString(t *testing.T) {
	r := newResult()
	r.record(10*time.Millisecond, 200, nil)
	r.record(30*time.Millisecond, 503, nil)
	r.Elapsed = time.Second
	s := r.String()
	assert.Contains(t, s, "Requests/sec:\t2.0000")
	assert.Contains(t, s, "Average:\t0.0200 secs")
	assert.Contains(t, s, "[200]\t1 responses")
	assert.Contains(t, s, "[503]\t1 responses")
	assert.NotContains(t, s, "Error distribution")
}

func TestResultBoundsErrorKinds(t *testing.T) {
	r := newResult()
	for i := range maxErrorKinds + 5 {
		r.record(0, 0, &os.PathError{Op: "dial", Path: string(rune('a' + i)), Err: os.ErrNotExist})
	}
	assert.Len(t, r.Errors, maxErrorKinds+1)
	assert.Equal(t, 5, r.Errors[otherErrors])
	assert.Equal(t, maxErrorKinds+5, r.ErrorCount())
}
