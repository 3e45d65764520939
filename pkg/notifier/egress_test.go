package notifier

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/webhook/egress"
)

func egressConfig(t *testing.T, entries ...string) Config {
	t.Helper()
	p, err := egress.Parse(entries)
	require.NoError(t, err)
	cfg := testConfig()
	cfg.Egress = p
	return cfg
}

func TestEgressBoundsEveryProviderType(t *testing.T) {
	for _, typ := range Types {
		t.Run(typ, func(t *testing.T) {
			rcv := newReceiver(t, http.StatusOK)
			u, err := url.Parse(rcv.URL)
			require.NoError(t, err)

			n, err := New(flaggerv1.AlertProviderSpec{Type: typ}, rcv.URL+"/services/secret", "", egressConfig(t, "hooks.slack.com"))
			require.NoError(t, err)
			err = n.Post(context.Background(), thresholdMessage())
			var denied *egress.DeniedError
			require.ErrorAs(t, err, &denied)
			assert.EqualError(t, err, "post to "+u.Host+": destination "+u.Host+" is not allowed by -webhook-allowed-hosts")
			assert.Empty(t, rcv.requests())

			n, err = New(flaggerv1.AlertProviderSpec{Type: typ}, rcv.URL+"/services/secret", "", egressConfig(t, "127.0.0.1"))
			require.NoError(t, err)
			require.NoError(t, n.Post(context.Background(), thresholdMessage()))
			assert.Len(t, rcv.requests(), 1)
		})
	}
}

// TestEgressBoundsWhatGoesThroughAProxy checks that a provider's proxy
// cannot carry an alert to an address the flag does not list, even when
// the proxy itself is allowed.
func TestEgressBoundsWhatGoesThroughAProxy(t *testing.T) {
	proxy := newReceiver(t, http.StatusOK)
	spec := flaggerv1.AlertProviderSpec{Type: TypeGeneric, Proxy: proxy.URL}

	n, err := New(spec, "http://alertmanager.monitoring:9093/api", "", egressConfig(t, "127.0.0.1"))
	require.NoError(t, err)
	var denied *egress.DeniedError
	require.ErrorAs(t, n.Post(context.Background(), thresholdMessage()), &denied)
	assert.Empty(t, proxy.requests())

	n, err = New(spec, "http://alertmanager.monitoring:9093/api", "", egressConfig(t, "127.0.0.1", "alertmanager.monitoring:9093"))
	require.NoError(t, err)
	require.NoError(t, n.Post(context.Background(), thresholdMessage()))
	assert.Len(t, proxy.requests(), 1)
}
