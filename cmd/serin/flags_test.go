package main

import (
	"flag"
	"io"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parse(args ...string) (*options, error) {
	fs := flag.NewFlagSet("serin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return parseFlags(fs, args)
}

func TestFlagsDefaults(t *testing.T) {
	o, err := parse()
	require.NoError(t, err)
	assert.Equal(t, "gatewayapi:v1", o.meshProvider)
	assert.Equal(t, []string{"app", "name", "app.kubernetes.io/name"}, o.labels())
	assert.True(t, o.enableConfigTracking)
	assert.False(t, o.enableLeaderElection)
}

func TestFlagsRejectBadValues(t *testing.T) {
	for name, args := range map[string][]string{
		"istio is not ours":  {"-mesh-provider", "istio"},
		"typo in provider":   {"-mesh-provider", "gatewayapi:v2"},
		"no workers":         {"-threadiness", "0"},
		"bad log level":      {"-log-level", "loud"},
		"no selector labels": {"-selector-labels", " , "},
		"bad port":           {"-port", "70000"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parse(args...)
			assert.Error(t, err)
		})
	}
	o, err := parse("-mesh-provider", "gatewayapi:v1beta1", "-threadiness", "4")
	require.NoError(t, err)
	assert.Equal(t, 4, o.threadiness)
}

func TestFlagWebhookAllowedHosts(t *testing.T) {
	o, err := parse()
	require.NoError(t, err)
	assert.Nil(t, o.operatorConfig(nil, nil).Egress, "off by default, as in Flagger")

	o, err = parse("-webhook-allowed-hosts", "flagger-loadtester.test:80, *.slack.com,10.96.0.0/12")
	require.NoError(t, err)
	policy := o.operatorConfig(nil, nil).Egress
	require.NotNil(t, policy)
	assert.True(t, policy.AllowsName("flagger-loadtester.test", 80))
	assert.False(t, policy.AllowsName("flagger-loadtester.test", 8080))
	assert.True(t, policy.AllowsName("hooks.slack.com", 443))
	assert.True(t, policy.AllowsIP(netip.MustParseAddr("10.96.0.1"), 443))
	assert.False(t, policy.AllowsIP(netip.MustParseAddr("169.254.169.254"), 80))

	_, err = parse("-webhook-allowed-hosts", "hooks.slack.com,http://x/")
	assert.ErrorContains(t, err, `-webhook-allowed-hosts "http://x/"`)
}

func TestUnlistedURLsAreNamed(t *testing.T) {
	t.Setenv("SLACK_URL", "")
	t.Setenv("MSTEAMS_URL", "")
	t.Setenv("EVENT_WEBHOOK_URL", "")
	o, err := parse("-slack-url", "https://hooks.slack.com/services/x", "-msteams-url", "https://outlook.office.com/webhook/x",
		"-event-webhook", "http://events.monitoring:8080/")
	require.NoError(t, err)
	assert.Empty(t, unlistedURLs(o.operatorConfig(nil, nil)), "no flag, nothing refused")

	o, err = parse("-slack-url", "https://hooks.slack.com/services/x", "-msteams-url", "https://outlook.office.com/webhook/x",
		"-event-webhook", "http://events.monitoring:8080/", "-webhook-allowed-hosts", "hooks.slack.com,events.monitoring:8080")
	require.NoError(t, err)
	assert.Equal(t, []string{"-msteams-url"}, unlistedURLs(o.operatorConfig(nil, nil)))
}
