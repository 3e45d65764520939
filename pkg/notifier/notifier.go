package notifier

import (
	"context"
	"errors"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Notifier posts a message to one destination.
type Notifier interface {
	// Post delivers the message. It returns when the receiver has answered,
	// or the post timed out, or ctx ended.
	Post(ctx context.Context, m Message) error
}

// Message is one alert about one canary.
type Message struct {
	// Name is the canary's name.
	Name string
	// Namespace is the canary's namespace.
	Namespace string
	// Text is the alert's text.
	Text string
	// Severity is info, warn or error.
	Severity flaggerv1.AlertSeverity
	// Fields are titled values shown with the text, in order.
	Fields []Field
}

// Field is one titled value of a message.
type Field struct {
	// Name is the field's title.
	Name string
	// Value is the field's text.
	Value string
}

// subject is <name>.<namespace>, the way Flagger names a canary in alerts.
func (m Message) subject() string {
	return m.Name + "." + m.Namespace
}

// isError reports whether the message is shown in the alarming color.
func (m Message) isError() bool {
	return m.Severity == flaggerv1.SeverityError
}

// Provider types accepted by the AlertProvider CRD.
const (
	// TypeSlack posts Slack's legacy incoming-webhook payload.
	TypeSlack = "slack"
	// TypeMSTeams posts a legacy MessageCard.
	TypeMSTeams = "msteams"
	// TypeDiscord posts the Slack payload to Discord's Slack-compatible
	// endpoint.
	TypeDiscord = "discord"
	// TypeRocket posts the Slack payload with Rocket.Chat's colors.
	TypeRocket = "rocket"
	// TypeGChat posts a Google Chat card.
	TypeGChat = "gchat"
	// TypeGeneric posts Serin's documented JSON body (see the package doc).
	TypeGeneric = "generic"
)

// ErrUnsupportedType means an AlertProvider's type is not one of the Type
// constants.
var ErrUnsupportedType = errors.New("unsupported alert provider type")
