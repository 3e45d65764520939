package notifier

import "context"

// msTeams posts a legacy MessageCard to an MS Teams incoming webhook.
type msTeams struct {
	poster *poster
}

var _ Notifier = (*msTeams)(nil)

func newMSTeams(address, proxy string, cfg Config) (*msTeams, error) {
	p, err := newPoster(address, proxy, cfg)
	if err != nil {
		return nil, err
	}
	return &msTeams{poster: p}, nil
}

// Post sends the message as a card with one section.
func (t *msTeams) Post(ctx context.Context, m Message) error {
	return t.poster.post(ctx, msTeamsCard(m))
}

type msTeamsPayload struct {
	Type       string           `json:"@type"`
	Context    string           `json:"@context"`
	ThemeColor string           `json:"themeColor"`
	Summary    string           `json:"summary"`
	Sections   []msTeamsSection `json:"sections"`
}

type msTeamsSection struct {
	ActivityTitle    string        `json:"activityTitle"`
	ActivitySubtitle string        `json:"activitySubtitle"`
	Facts            []msTeamsFact `json:"facts"`
}

type msTeamsFact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func msTeamsCard(m Message) msTeamsPayload {
	color := "0076D7"
	if m.isError() {
		color = "FF0000"
	}
	facts := make([]msTeamsFact, 0, len(m.Fields))
	for _, f := range m.Fields {
		facts = append(facts, msTeamsFact(f))
	}
	return msTeamsPayload{
		Type:       "MessageCard",
		Context:    "http://schema.org/extensions",
		ThemeColor: color,
		Summary:    m.subject(),
		Sections: []msTeamsSection{{
			ActivityTitle:    m.Text,
			ActivitySubtitle: m.subject(),
			Facts:            facts,
		}},
	}
}
