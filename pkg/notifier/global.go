package notifier

import (
	"fmt"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// GlobalConfig is the operator-wide notifier of Flagger's flags, used for
// the canaries that list no analysis.alerts.
type GlobalConfig struct {
	// SlackURL is the Slack incoming webhook (-slack-url, SLACK_URL).
	SlackURL string
	// SlackToken is a Slack bot token for chat.postMessage (SLACK_TOKEN).
	SlackToken string
	// SlackChannel is the channel (-slack-channel); general by default.
	SlackChannel string
	// SlackUser is the username (-slack-user); flagger by default.
	SlackUser string
	// SlackProxy is an HTTP proxy for Slack (-slack-proxy-url, SLACK_PROXY_URL).
	SlackProxy string
	// MSTeamsURL is the MS Teams incoming webhook (-msteams-url, MSTEAMS_URL).
	MSTeamsURL string
	// MSTeamsProxy is an HTTP proxy for MS Teams (-msteams-proxy-url,
	// MSTEAMS_PROXY_URL).
	MSTeamsProxy string
}

// FillFromEnv sets the empty fields from Flagger's environment variables,
// read through getenv (os.Getenv in main).
func (g *GlobalConfig) FillFromEnv(getenv func(string) string) {
	for _, f := range []struct {
		field *string
		env   string
	}{
		{&g.SlackURL, "SLACK_URL"},
		{&g.SlackToken, "SLACK_TOKEN"},
		{&g.SlackProxy, "SLACK_PROXY_URL"},
		{&g.MSTeamsURL, "MSTEAMS_URL"},
		{&g.MSTeamsProxy, "MSTEAMS_PROXY_URL"},
	} {
		if *f.field == "" {
			*f.field = getenv(f.env)
		}
	}
}

// namedNotifier is a notifier with what errors and metrics call it.
type namedNotifier struct {
	name     string
	typ      string
	notifier Notifier
}

// build returns the global notifiers: Slack and MS Teams, each when its URL
// is set.
//
// Unlike Flagger, where an MS Teams URL silently replaces the Slack one,
// both receive the alerts when both are set.
func (g GlobalConfig) build(cfg Config) ([]namedNotifier, error) {
	var out []namedNotifier
	if g.SlackURL != "" {
		spec := flaggerv1.AlertProviderSpec{Type: TypeSlack, Channel: g.SlackChannel, Username: g.SlackUser, Proxy: g.SlackProxy}
		n, err := New(spec, g.SlackURL, g.SlackToken, cfg)
		if err != nil {
			return nil, fmt.Errorf("-slack-url: %w", err)
		}
		out = append(out, namedNotifier{name: "global slack", typ: TypeSlack, notifier: n})
	}
	if g.MSTeamsURL != "" {
		spec := flaggerv1.AlertProviderSpec{Type: TypeMSTeams, Proxy: g.MSTeamsProxy}
		n, err := New(spec, g.MSTeamsURL, "", cfg)
		if err != nil {
			return nil, fmt.Errorf("-msteams-url: %w", err)
		}
		out = append(out, namedNotifier{name: "global msteams", typ: TypeMSTeams, notifier: n})
	}
	return out, nil
}
