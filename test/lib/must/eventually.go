package must

import (
	"fmt"
	"testing"
	"time"
)

// Condition reports whether the awaited state has been reached. Returning false with a non-nil
// error means "not yet, and this is why": the error is kept and shown if the wait times out, so
// conditions should describe what they saw (for example "1/2 replicas available").
type Condition func() (done bool, err error)

// Eventually calls cond at once and then every interval until it reports done, and fails the
// test with t.Fatal if that has not happened within timeout. The failure message holds
// msgAndArgs (a format string and its arguments, as in testify), the number of attempts and the
// last error cond returned. Like t.Fatal, it must be called from the goroutine running the test.
func Eventually(t testing.TB, timeout, interval time.Duration, cond Condition, msgAndArgs ...any) {
	t.Helper()
	if err := Poll(timeout, interval, cond); err != nil {
		t.Fatalf("%s%v", message(msgAndArgs), err)
	}
}

// Poll is the loop behind Eventually for callers that want the error instead of a failed test,
// such as a TestMain or a helper goroutine.
func Poll(timeout, interval time.Duration, cond Condition) error {
	start := time.Now()
	deadline := start.Add(timeout)
	var lastErr error
	for attempt := 1; ; attempt++ {
		done, err := cond()
		if done {
			return nil
		}
		lastErr = err
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return &TimeoutError{Elapsed: time.Since(start), Attempts: attempt, Last: lastErr}
		}
		// The last attempt happens at the deadline, not an interval before it.
		time.Sleep(min(interval, remaining))
	}
}

// TimeoutError is returned by Poll when the condition was not met in time.
type TimeoutError struct {
	// Elapsed is how long Poll waited.
	Elapsed time.Duration
	// Attempts is how many times the condition was evaluated.
	Attempts int
	// Last is the error of the last attempt; nil when the condition just reported false.
	Last error
}

// Error implements error.
func (e *TimeoutError) Error() string {
	state := "condition still false"
	if e.Last != nil {
		state = "last error: " + e.Last.Error()
	}
	return fmt.Sprintf("condition not met after %s (%d attempts); %s",
		e.Elapsed.Round(time.Millisecond), e.Attempts, state)
}

// Unwrap returns the error of the last attempt.
func (e *TimeoutError) Unwrap() error { return e.Last }

// message renders testify-style msgAndArgs as a prefix ending in ": ", or "" when empty.
func message(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return ""
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...) + ": "
	}
	return fmt.Sprint(msgAndArgs...) + ": "
}
