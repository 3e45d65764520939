package notifier

import "context"

// gchatTextColor is the grey Flagger writes the message and values in.
const gchatTextColor = "#848484"

// gChat posts a Cards v1 message to a Google Chat incoming webhook.
type gChat struct {
	poster *poster
}

var _ Notifier = (*gChat)(nil)

func newGChat(address, proxy string, cfg Config) (*gChat, error) {
	p, err := newPoster(address, proxy, cfg)
	if err != nil {
		return nil, err
	}
	return &gChat{poster: p}, nil
}

// Post sends the message as a card: one section for the text, one per
// field.
func (g *gChat) Post(ctx context.Context, m Message) error {
	return g.poster.post(ctx, gChatCard(m))
}

type gChatPayload struct {
	Cards []gChatCardBody `json:"cards"`
}

type gChatCardBody struct {
	Header   gChatHeader    `json:"header"`
	Sections []gChatSection `json:"sections"`
}

type gChatHeader struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle"`
	ImageURL string `json:"imageUrl"`
}

type gChatSection struct {
	Widgets []gChatWidget `json:"widgets"`
}

type gChatWidget struct {
	TextParagraph gChatText `json:"textParagraph"`
}

type gChatText struct {
	Text string `json:"text"`
}

func gChatCard(m Message) gChatPayload {
	sections := make([]gChatSection, 0, 1+len(m.Fields))
	sections = append(sections, gChatParagraph(grey(m.Text)))
	for _, f := range m.Fields {
		sections = append(sections, gChatParagraph(f.Name+"<br>"+grey(f.Value)))
	}
	return gChatPayload{Cards: []gChatCardBody{{
		Header: gChatHeader{
			Title:    "Flagger",
			Subtitle: m.subject(),
			ImageURL: "https://flagger.app/favicon.png",
		},
		Sections: sections,
	}}}
}

func gChatParagraph(html string) gChatSection {
	return gChatSection{Widgets: []gChatWidget{{TextParagraph: gChatText{Text: html}}}}
}

// grey renders text bold and grey in Google Chat's HTML subset.
func grey(text string) string {
	return "<font color=" + gchatTextColor + "><strong>" + text + "</strong></font>"
}
