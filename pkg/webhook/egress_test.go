package webhook

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/webhook/egress"
)

func TestCallRefusedByEgress(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		allowed bool
	}{
		{"not listed", []string{"hooks.slack.com", "10.0.0.0/8"}, false},
		{"listed", []string{"127.0.0.1"}, true},
		{"flag unset", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, hookURL := startHook(t, response{status: 200})
			u, err := url.Parse(hookURL)
			require.NoError(t, err)
			policy, err := egress.Parse(tt.entries)
			require.NoError(t, err)
			c := NewCaller(Config{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Egress: policy})
			for _, disableTLS := range []bool{false, true} {
				hook := flaggerv1.CanaryWebhook{Name: "smoke-test", URL: hookURL, Retries: 3, DisableTLS: disableTLS}
				err = c.Call(t.Context(), hook, testPayload)
				if tt.allowed {
					assert.NoError(t, err)
					continue
				}
				assert.EqualError(t, err, "webhook smoke-test: destination "+u.Host+" is not allowed by -webhook-allowed-hosts")
				var denied *egress.DeniedError
				assert.ErrorAs(t, err, &denied)
			}
			want := int32(0)
			if tt.allowed {
				want = 2
			}
			assert.Equal(t, want, s.hits.Load(), "a refusal is not retried and reaches nothing")
		})
	}
}
