package webhook

import (
	"encoding/json"
	"hash/fnv"
	"maps"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/rand"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Payload is the JSON body POSTed to a webhook, field for field Flagger's
// CanaryWebhookPayload.
type Payload struct {
	// Name of the canary.
	Name string `json:"name"`
	// Namespace of the canary.
	Namespace string `json:"namespace"`
	// Phase of the canary when the hook is called.
	Phase flaggerv1.CanaryPhase `json:"phase"`
	// Checksum identifies the revision under test (see Checksum).
	Checksum string `json:"checksum"`
	// Metadata is the hook's metadata, or the event fields of an event hook.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Metadata keys of an event payload; the hook's own metadata never
// overrides them.
const (
	// EventMessageKey holds the text of the Kubernetes event.
	EventMessageKey = "eventMessage"
	// EventTypeKey holds the event type, Normal or Warning.
	EventTypeKey = "eventType"
	// TimestampKey holds the time of the event in Unix milliseconds.
	TimestampKey = "timestamp"
)

// GlobalEventHookName is the hook name Flagger gives the -event-webhook URL.
const GlobalEventHookName = "events"

// Checksum is a short stable hash of the tracked configs and the last
// applied spec: it changes exactly when the revision under test changes, so
// a webhook can cache or de-duplicate its results per revision. A nil and an
// empty map hash the same.
func Checksum(trackedConfigs map[string]string, lastAppliedSpec string) string {
	if len(trackedConfigs) == 0 {
		trackedConfigs = nil
	}
	// encoding/json writes map keys sorted, so the input is deterministic.
	b, _ := json.Marshal(struct {
		TrackedConfigs  map[string]string `json:"trackedConfigs"`
		LastAppliedSpec string            `json:"lastAppliedSpec"`
	}{trackedConfigs, lastAppliedSpec})
	h := fnv.New32a()
	_, _ = h.Write(b)
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// CanaryChecksum is the Checksum of a canary's status.
func CanaryChecksum(c *flaggerv1.Canary) string {
	var tracked map[string]string
	if c.Status.TrackedConfigs != nil {
		tracked = *c.Status.TrackedConfigs
	}
	return Checksum(tracked, c.Status.LastAppliedSpec)
}

// NewPayload returns the payload of a gate, rollout or notification hook
// called while the canary is in phase.
func NewPayload(c *flaggerv1.Canary, phase flaggerv1.CanaryPhase, hook flaggerv1.CanaryWebhook) Payload {
	p := Payload{Name: c.Name, Namespace: c.Namespace, Phase: phase, Checksum: CanaryChecksum(c)}
	if len(hook.Metadata) > 0 {
		p.Metadata = maps.Clone(hook.Metadata)
	}
	return p
}

// NewEventPayload returns the payload sent to an event hook for a
// Kubernetes event: the canary's current phase, and metadata holding the
// event text, its type (Normal or Warning) and the time in Unix
// milliseconds, merged with the hook's metadata.
func NewEventPayload(c *flaggerv1.Canary, hook flaggerv1.CanaryWebhook, message, eventType string, now time.Time) Payload {
	p := Payload{
		Name:      c.Name,
		Namespace: c.Namespace,
		Phase:     c.Status.Phase,
		Checksum:  CanaryChecksum(c),
		Metadata: map[string]string{
			EventMessageKey: message,
			EventTypeKey:    eventType,
			TimestampKey:    strconv.FormatInt(now.UnixMilli(), 10),
		},
	}
	for k, v := range hook.Metadata {
		if _, taken := p.Metadata[k]; !taken {
			p.Metadata[k] = v
		}
	}
	return p
}

// GlobalEventHook is the hook for the operator's -event-webhook URL.
func GlobalEventHook(url string) flaggerv1.CanaryWebhook {
	return flaggerv1.CanaryWebhook{Type: flaggerv1.EventHook, Name: GlobalEventHookName, URL: url}
}

// EventHooks returns the hooks that receive a canary's events: its event
// hooks, or else the global hook for globalURL (none when it is empty).
func EventHooks(c *flaggerv1.Canary, globalURL string) []flaggerv1.CanaryWebhook {
	if hooks := c.GetAnalysis().WebhooksOf(flaggerv1.EventHook); len(hooks) > 0 {
		return hooks
	}
	if globalURL == "" {
		return nil
	}
	return []flaggerv1.CanaryWebhook{GlobalEventHook(globalURL)}
}
