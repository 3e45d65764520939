package notifier

import (
	"net/url"
	"strings"
)

// newDiscord returns a notifier that posts the Slack payload to Discord's
// Slack-compatible endpoint, <webhook>/slack, as Flagger does.
func newDiscord(address, proxy, channel, username string, cfg Config) (*slack, error) {
	return newSlack(discordSlackURL(address), proxy, "", channel, username, cfg)
}

// discordSlackURL appends /slack to a Discord webhook's path unless it is
// there already; the query is kept.
func discordSlackURL(address string) string {
	u, err := url.Parse(address)
	if err != nil {
		return address // newPoster reports it
	}
	if !strings.HasSuffix(u.Path, "/slack") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/slack"
		u.RawPath = ""
	}
	return u.String()
}
