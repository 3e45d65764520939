package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// checksumShape is the alphabet of rand.SafeEncodeString.
var checksumShape = regexp.MustCompile(`^[bcdfghjklmnpqrstvwxz2456789]+$`)

// FuzzPayload builds the payloads of a hook and of an event from arbitrary
// fields. A payload survives a JSON round trip unchanged (its strings being
// valid UTF-8, as everything read from the API server is; otherwise it still
// encodes, into valid UTF-8), an event payload always carries the event's
// own text, type and time whatever the hook's metadata says, and the
// checksum is stable, shaped like Flagger's, and the same for a nil and an
// empty map of tracked configs.
func FuzzPayload(f *testing.F) {
	f.Add("podinfo", "test", "Progressing", "5d4f7c8b9", "type", "cmd", "New revision detected! Scaling up podinfo.test", "Normal", int64(1752494400000))
	f.Add("podinfo", "test", "", "", "eventMessage", "spoofed", "Halt podinfo.test advancement \xff\xfe", "Warning", int64(-1))
	f.Add("", "", "Succeeded", "x", "timestamp", "0", "", "", int64(0))
	f.Add("a\u2028b", "<ns>&", "Promoting", "\"quoted\"", "", "", "\x00", "Normal", int64(9223372036854775807))
	f.Fuzz(func(t *testing.T, name, namespace, phase, applied, key, value, message, eventType string, ms int64) {
		c := &flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
		c.Status.Phase = flaggerv1.CanaryPhase(phase)
		c.Status.LastAppliedSpec = applied
		hook := flaggerv1.CanaryWebhook{Name: "hook", URL: "http://hook/", Metadata: map[string]string{key: value}}

		p := NewPayload(c, flaggerv1.CanaryPhaseProgressing, hook)
		require.Equal(t, value, p.Metadata[key], "the hook's metadata is sent")
		roundTrip(t, p)

		now := time.UnixMilli(ms)
		e := NewEventPayload(c, hook, message, eventType, now)
		require.Equal(t, message, e.Metadata[EventMessageKey])
		require.Equal(t, eventType, e.Metadata[EventTypeKey])
		require.Equal(t, strconv.FormatInt(now.UnixMilli(), 10), e.Metadata[TimestampKey])
		if key != EventMessageKey && key != EventTypeKey && key != TimestampKey {
			require.Equal(t, value, e.Metadata[key], "the hook's metadata is merged")
		}
		require.Equal(t, c.Status.Phase, e.Phase)
		roundTrip(t, e)

		sum := Checksum(nil, applied)
		require.Regexp(t, checksumShape, sum)
		require.Equal(t, sum, Checksum(map[string]string{}, applied), "nil and empty configs")
		require.Equal(t, sum, CanaryChecksum(c))
		withConfigs := Checksum(map[string]string{key: value, "configmap/x": "1"}, applied)
		require.Equal(t, withConfigs, Checksum(map[string]string{"configmap/x": "1", key: value}, applied), "checksum is stable")
	})
}

// roundTrip encodes p as the caller does and decodes it as the load tester
// does.
func roundTrip(t *testing.T, p Payload) {
	t.Helper()
	b, err := json.Marshal(p)
	require.NoError(t, err)
	require.True(t, utf8.Valid(b), "the payload is valid UTF-8")
	var got Payload
	require.NoError(t, json.Unmarshal(b, &got))
	if !payloadIsUTF8(p) {
		return
	}
	if len(p.Metadata) == 0 {
		p.Metadata = nil
	}
	require.Equal(t, p, got, "JSON round trip")
}

func payloadIsUTF8(p Payload) bool {
	for _, s := range []string{p.Name, p.Namespace, string(p.Phase), p.Checksum} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for k, v := range p.Metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// FuzzCallResponse answers a hook with an arbitrary status, body and
// Retry-After. Call succeeds exactly on 200, 201 and 202; any other answer
// is a *StatusError with that status and the body as the event shows it
// (trimmed, at most maxBodyBytes), wrapped in a *RetriesExhaustedError
// after retries; and only 429 and 5xx but 501 are retried.
func FuzzCallResponse(f *testing.F) {
	for _, status := range []int{200, 201, 202, 204, 301, 304, 400, 403, 404, 429, 500, 501, 502, 503} {
		f.Add(uint16(status), []byte("  command failed: exit status 1\n"), "1", uint8(1))
	}
	f.Add(uint16(503), []byte(strings.Repeat("x", maxBodyBytes+10)), "99999999999999999999", uint8(2))
	f.Add(uint16(429), []byte{}, "-5", uint8(0))
	f.Add(uint16(418), []byte("\xff\x00 \t"), "", uint8(1))

	var (
		mu     sync.Mutex
		answer response
		hits   atomic.Int32
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		mu.Lock()
		a := answer
		mu.Unlock()
		for k, vs := range a.header {
			w.Header()[k] = vs
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	f.Cleanup(srv.Close)
	caller := NewCaller(Config{MinBackoff: time.Microsecond, MaxBackoff: time.Millisecond})

	f.Fuzz(func(t *testing.T, code uint16, body []byte, retryAfter string, retries uint8) {
		status := 200 + int(code)%400
		// Only what a server can send: net/http writes a header value with
		// control characters as it is, and the client rightly refuses it.
		retryAfter = strings.Map(func(r rune) rune {
			if r < ' ' || r > '~' {
				return -1
			}
			return r
		}, retryAfter)
		mu.Lock()
		answer = response{status: status, body: string(body), header: http.Header{"Retry-After": {retryAfter}}}
		mu.Unlock()
		hits.Store(0)
		hook := flaggerv1.CanaryWebhook{Name: "gate", URL: srv.URL, Retries: int(retries % 3)}

		err := caller.Call(context.Background(), hook, Payload{Name: "podinfo", Namespace: "test"})
		attempts := int(hits.Load())
		if status == 200 || status == 201 || status == 202 {
			require.NoError(t, err)
			require.Equal(t, 1, attempts)
			return
		}
		var se *StatusError
		require.True(t, errors.As(err, &se), "a %d answer gives %T %v", status, err, err)
		require.Equal(t, status, se.StatusCode)
		want := body
		if status == http.StatusNoContent || status == http.StatusNotModified {
			want = nil // net/http sends no body with these
		}
		want = want[:min(len(want), maxBodyBytes)]
		require.Equal(t, strings.TrimSpace(string(want)), se.Body)
		require.NotEmpty(t, err.Error())
		if retryableStatus(status) {
			require.Equal(t, hook.Retries+1, attempts, "a %d is retried", status)
			var re *RetriesExhaustedError
			require.Equal(t, hook.Retries > 0, errors.As(err, &re), "retries exhausted")
		} else {
			require.Equal(t, 1, attempts, "a %d is not retried", status)
		}
	})
}

// FuzzBudget bounds a hook's longest call from its timeout and retries: a
// timeout is the default, or what the hook says, or an error; the budget is
// never negative, covers one attempt, and grows with the retries.
func FuzzBudget(f *testing.F) {
	for _, s := range []string{"", "5", "10s", "1m30s", "-1s", "0s", "2562047h", "9223372036854775807ns", "1e3s", "ten seconds"} {
		f.Add(s, 0)
		f.Add(s, 3)
	}
	f.Add("10m", 1<<62)
	caller := NewCaller(Config{})
	f.Fuzz(func(t *testing.T, timeout string, retries int) {
		d, err := hookTimeout(timeout)
		if err != nil {
			require.Contains(t, err.Error(), "webhook timeout")
			d = DefaultTimeout
		}
		require.Positive(t, d, "timeout %q", timeout)
		hook := flaggerv1.CanaryWebhook{Timeout: timeout, Retries: retries}
		budget := caller.Budget(hook)
		require.GreaterOrEqual(t, budget, d, "the budget of %d retries of %s", retries, d)
		if retries >= 0 && retries < 1<<40 {
			hook.Retries++
			require.GreaterOrEqual(t, caller.Budget(hook), budget, "one more retry lowered the budget")
		}
	})
}
