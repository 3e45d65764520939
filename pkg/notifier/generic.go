package notifier

import (
	"context"
	"time"

	"k8s.io/utils/clock"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// generic posts Serin's documented JSON body (see the package doc).
type generic struct {
	poster *poster
	clock  clock.PassiveClock
}

var _ Notifier = (*generic)(nil)

func newGeneric(address, proxy, token string, cfg Config) (*generic, error) {
	p, err := newPoster(address, proxy, cfg)
	if err != nil {
		return nil, err
	}
	return &generic{poster: p.withBearer(token), clock: cfg.Clock}, nil
}

// Post sends the message as a flat JSON object.
func (g *generic) Post(ctx context.Context, m Message) error {
	return g.poster.post(ctx, genericBody(m, g.clock.Now()))
}

// GenericPayload is the body of the generic type, for receivers written in
// Go.
type GenericPayload struct {
	// Name is the canary's name.
	Name string `json:"name"`
	// Namespace is the canary's namespace.
	Namespace string `json:"namespace"`
	// Severity is info, warn or error.
	Severity string `json:"severity"`
	// Message is the alert's text.
	Message string `json:"message"`
	// Fields are the alert's titled values, in order.
	Fields []GenericField `json:"fields"`
	// Timestamp is when the alert was posted, in UTC.
	Timestamp time.Time `json:"timestamp"`
}

// GenericField is one titled value of a GenericPayload.
type GenericField struct {
	// Name is the field's title.
	Name string `json:"name"`
	// Value is the field's text.
	Value string `json:"value"`
}

func genericBody(m Message, now time.Time) GenericPayload {
	fields := make([]GenericField, 0, len(m.Fields))
	for _, f := range m.Fields {
		fields = append(fields, GenericField(f))
	}
	severity := m.Severity
	if severity == "" {
		severity = flaggerv1.SeverityInfo
	}
	return GenericPayload{
		Name:      m.Name,
		Namespace: m.Namespace,
		Severity:  string(severity),
		Message:   m.Text,
		Fields:    fields,
		Timestamp: now.UTC().Truncate(time.Second),
	}
}
