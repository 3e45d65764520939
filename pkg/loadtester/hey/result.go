package hey

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// maxErrorKinds bounds the distinct error texts kept: a run against a dead
// endpoint must not grow a map per request.
const maxErrorKinds = 20

// otherErrors counts the errors past maxErrorKinds.
const otherErrors = "other errors"

// Result is what a run did.
type Result struct {
	// Requests counts the requests sent, answered or not.
	Requests int
	// StatusCodes counts the responses by status code.
	StatusCodes map[int]int
	// Errors counts the requests that got no response, by error text.
	Errors map[string]int
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
	// Fastest, Slowest and Total are the request latencies.
	Fastest, Slowest, Total time.Duration
}

func newResult() Result {
	return Result{StatusCodes: map[int]int{}, Errors: map[string]int{}}
}

// ErrorCount is the number of requests that got no response.
func (r Result) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

func (r *Result) record(latency time.Duration, code int, err error) {
	r.Requests++
	if err != nil {
		r.addErrors(err.Error(), 1)
		return
	}
	r.StatusCodes[code]++
	r.Total += latency
	if r.Fastest == 0 || latency < r.Fastest {
		r.Fastest = latency
	}
	r.Slowest = max(r.Slowest, latency)
}

func (r *Result) addErrors(text string, n int) {
	if _, ok := r.Errors[text]; !ok && len(r.Errors) >= maxErrorKinds {
		text = otherErrors
	}
	r.Errors[text] += n
}

func (r *Result) merge(o Result) {
	r.Requests += o.Requests
	for code, n := range o.StatusCodes {
		r.StatusCodes[code] += n
	}
	for text, n := range o.Errors {
		r.addErrors(text, n)
	}
	r.Total += o.Total
	if o.Fastest > 0 && (r.Fastest == 0 || o.Fastest < r.Fastest) {
		r.Fastest = o.Fastest
	}
	r.Slowest = max(r.Slowest, o.Slowest)
}

// String is a summary in the shape of hey's report.
func (r Result) String() string {
	var b strings.Builder
	answered := r.Requests - r.ErrorCount()
	var avg time.Duration
	if answered > 0 {
		avg = r.Total / time.Duration(answered)
	}
	rps := 0.0
	if r.Elapsed > 0 {
		rps = float64(r.Requests) / r.Elapsed.Seconds()
	}
	fmt.Fprintf(&b, "Summary:\n  Total:\t%.4f secs\n  Slowest:\t%.4f secs\n  Fastest:\t%.4f secs\n  Average:\t%.4f secs\n  Requests/sec:\t%.4f\n",
		r.Elapsed.Seconds(), r.Slowest.Seconds(), r.Fastest.Seconds(), avg.Seconds(), rps)
	b.WriteString("\nStatus code distribution:\n")
	for _, code := range slices.Sorted(maps.Keys(r.StatusCodes)) {
		fmt.Fprintf(&b, "  [%d]\t%d responses\n", code, r.StatusCodes[code])
	}
	if len(r.Errors) > 0 {
		b.WriteString("\nError distribution:\n")
		for _, text := range slices.Sorted(maps.Keys(r.Errors)) {
			fmt.Fprintf(&b, "  [%d]\t%s\n", r.Errors[text], text)
		}
	}
	return b.String()
}
