package notifier

// newRocket returns a notifier that posts the Slack payload to a Rocket.Chat
// incoming webhook, with the colors Flagger uses for Rocket.Chat.
func newRocket(address, proxy, channel, username string, cfg Config) (*slack, error) {
	s, err := newSlack(address, proxy, "", channel, username, cfg)
	if err != nil {
		return nil, err
	}
	s.colors = slackColors{normal: "#0076D7", err: "#FF0000"}
	return s, nil
}
