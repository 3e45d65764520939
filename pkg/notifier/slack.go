package notifier

import "context"

// slackColors are the attachment colors of an ordinary and an error message.
type slackColors struct{ normal, err string }

// slack posts Slack's legacy incoming-webhook payload; discord and rocket
// post the same payload with their own address and colors.
type slack struct {
	poster   *poster
	channel  string
	username string
	colors   slackColors
}

var _ Notifier = (*slack)(nil)

// newSlack returns a Slack notifier. With a token (a bot token for
// https://slack.com/api/chat.postMessage) it authenticates as a bearer.
func newSlack(address, proxy, token, channel, username string, cfg Config) (*slack, error) {
	p, err := newPoster(address, proxy, cfg)
	if err != nil {
		return nil, err
	}
	return &slack{
		poster:   p.withBearer(token),
		channel:  channel,
		username: username,
		colors:   slackColors{normal: "good", err: "danger"},
	}, nil
}

// Post sends the message as one attachment.
func (s *slack) Post(ctx context.Context, m Message) error {
	return s.poster.post(ctx, s.payload(m))
}

type slackPayload struct {
	Channel     string            `json:"channel"`
	Username    string            `json:"username"`
	IconEmoji   string            `json:"icon_emoji"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Color      string       `json:"color"`
	AuthorName string       `json:"author_name"`
	Text       string       `json:"text"`
	MrkdwnIn   []string     `json:"mrkdwn_in"`
	Fields     []slackField `json:"fields"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

func (s *slack) payload(m Message) slackPayload {
	color := s.colors.normal
	if m.isError() {
		color = s.colors.err
	}
	fields := make([]slackField, 0, len(m.Fields))
	for _, f := range m.Fields {
		fields = append(fields, slackField{Title: f.Name, Value: f.Value})
	}
	return slackPayload{
		Channel:   s.channel,
		Username:  s.username,
		IconEmoji: ":rocket:",
		Attachments: []slackAttachment{{
			Color:      color,
			AuthorName: m.subject(),
			Text:       m.Text,
			MrkdwnIn:   []string{"text"},
			Fields:     fields,
		}},
	}
}
