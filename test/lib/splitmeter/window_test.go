package splitmeter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRecord(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	windows := []Window{{Label: "0", Start: t0}, {Label: "10", Weight: 10, Start: t0.Add(10 * time.Second)}}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	settle := time.Second
	record(windows, result{sent: at(1 * time.Second), code: 200}, settle)
	record(windows, result{sent: at(11 * time.Second), code: 200, canary: true}, settle)
	record(windows, result{sent: at(10500 * time.Millisecond), code: 200, canary: true}, settle)
	record(windows, result{sent: at(10500 * time.Millisecond), code: 502}, settle)
	record(windows, result{sent: at(12 * time.Second), code: 200}, settle)
	record(windows, result{sent: at(13 * time.Second)}, settle)

	assert.Equal(t, 1, windows[0].Primary)
	w := windows[1]
	assert.Equal(t, 1, w.Canary)
	assert.Equal(t, 1, w.Primary)
	assert.Equal(t, 1, w.Settling, "a success during the settling time counts for neither side")
	assert.Equal(t, 2, w.Failed, "failures count, settling or not")
	assert.Equal(t, map[int]int{502: 1, 0: 1}, w.Codes)
	assert.Equal(t, at(10500*time.Millisecond), w.FirstFailed)
	assert.Equal(t, at(13*time.Second), w.LastFailed)
	assert.InDelta(t, 50, w.Share(), 0.01)
	assert.Equal(t, 0.0, Window{}.Share())
}
