package must

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records Fatalf instead of stopping the test.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func TestEventuallySucceedsAfterRetries(t *testing.T) {
	calls := 0
	r := &recorder{TB: t}
	Eventually(r, time.Second, time.Millisecond, func() (bool, error) {
		calls++
		if calls < 3 {
			return false, errors.New("not yet")
		}
		return true, nil
	})
	assert.Empty(t, r.fatal)
	assert.Equal(t, 3, calls)
}

func TestEventuallyReportsLastError(t *testing.T) {
	calls := 0
	r := &recorder{TB: t}
	Eventually(r, 30*time.Millisecond, 5*time.Millisecond, func() (bool, error) {
		calls++
		return false, fmt.Errorf("%d/2 replicas available", calls%2)
	}, "deployment %s", "web")
	require.NotEmpty(t, r.fatal)
	assert.Regexp(t, `^deployment web: condition not met after \d+ms \(\d+ attempts\); last error: [01]/2 replicas available$`, r.fatal)
	// How many attempts fit in 30 ms depends on the machine's load; that
	// it retried at all is what matters.
	assert.GreaterOrEqual(t, calls, 2)
}

func TestPollFalseWithoutError(t *testing.T) {
	err := Poll(10*time.Millisecond, 20*time.Millisecond, func() (bool, error) { return false, nil })
	var timeout *TimeoutError
	require.ErrorAs(t, err, &timeout)
	assert.Equal(t, 2, timeout.Attempts, "one attempt at the start, one at the deadline")
	assert.Contains(t, err.Error(), "condition still false")
	assert.NoError(t, timeout.Unwrap())
}

func TestPollUnwrapsLastError(t *testing.T) {
	sentinel := errors.New("boom")
	err := Poll(0, time.Millisecond, func() (bool, error) { return false, sentinel })
	assert.ErrorIs(t, err, sentinel)
}
