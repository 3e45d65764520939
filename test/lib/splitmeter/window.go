package splitmeter

import (
	"fmt"
	"time"
)

// Window counts the answers of one period, for one intended weight.
type Window struct {
	// Label names the period, e.g. the intended canary weight.
	Label string
	// Weight is the canary weight intended during the period, in percent.
	Weight int
	// Start is when the window opened; answers to requests sent before Start plus the
	// settling time are counted in Settling, not in Canary and Primary.
	Start time.Time
	// Canary and Primary count successful (2xx) answers by the kind of Pod that gave them.
	Canary, Primary int
	// Settling counts successful answers during the settling time.
	Settling int
	// Failed counts requests that got no answer or a non-2xx one, settling time included.
	Failed int
	// Codes counts the status codes of the non-2xx answers (0 for no answer).
	Codes map[int]int
	// FirstFailed and LastFailed are when the first and the last failed request were sent.
	FirstFailed, LastFailed time.Time
}

// Share returns the canary's share of the answers, in percent (NaN-free: 0 without answers).
func (w Window) Share() float64 {
	if n := w.Canary + w.Primary; n > 0 {
		return 100 * float64(w.Canary) / float64(n)
	}
	return 0
}

// String summarises the window for a report.
func (w Window) String() string {
	return fmt.Sprintf("%s: intended %d%%, observed %.1f%% canary (%d canary / %d primary answers), %d failed",
		w.Label, w.Weight, w.Share(), w.Canary, w.Primary, w.Failed)
}

// result is what one request found.
type result struct {
	sent   time.Time
	code   int // 0: no answer
	canary bool
}

// record adds a result to the window it belongs to: the last one opened before it was sent.
func record(windows []Window, r result, settle time.Duration) {
	i := len(windows) - 1
	for i > 0 && r.sent.Before(windows[i].Start) {
		i--
	}
	if i < 0 {
		return
	}
	w := &windows[i]
	switch {
	case r.code < 200 || r.code > 299:
		w.Failed++
		if w.Codes == nil {
			w.Codes = map[int]int{}
		}
		w.Codes[r.code]++
		if w.FirstFailed.IsZero() {
			w.FirstFailed = r.sent
		}
		w.LastFailed = r.sent
	case r.sent.Before(w.Start.Add(settle)):
		w.Settling++
	case r.canary:
		w.Canary++
	default:
		w.Primary++
	}
}
