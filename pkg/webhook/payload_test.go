package webhook

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// newCanary returns podinfo.test in Progressing, changed by opts.
func newCanary(opts ...func(*flaggerv1.Canary)) *flaggerv1.Canary {
	tracked := map[string]string{"configmap/podinfo-config": "7c6f9c"}
	c := &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: flaggerv1.CanarySpec{
			TargetRef: flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Analysis:  &flaggerv1.CanaryAnalysis{},
		},
		Status: flaggerv1.CanaryStatus{
			Phase:           flaggerv1.CanaryPhaseProgressing,
			TrackedConfigs:  &tracked,
			LastAppliedSpec: "5f8b4c6d9",
		},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func withHooks(hooks ...flaggerv1.CanaryWebhook) func(*flaggerv1.Canary) {
	return func(c *flaggerv1.Canary) { c.Spec.Analysis.Webhooks = hooks }
}

func TestPayloadJSON(t *testing.T) {
	c := newCanary()
	hook := flaggerv1.CanaryWebhook{Name: "load-test", URL: "http://lt/", Metadata: map[string]string{
		"type": "cmd", "cmd": "hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/",
	}}
	b, err := json.Marshal(NewPayload(c, flaggerv1.CanaryPhaseProgressing, hook))
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"`+CanaryChecksum(c)+`",
		"metadata":{"type":"cmd","cmd":"hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/"}}`, string(b))

	t.Run("metadata is omitted when empty, checksum is not", func(t *testing.T) {
		b, err := json.Marshal(Payload{Name: "podinfo", Namespace: "test", Phase: flaggerv1.CanaryPhaseSucceeded})
		require.NoError(t, err)
		assert.Equal(t, `{"name":"podinfo","namespace":"test","phase":"Succeeded","checksum":""}`, string(b))
	})
	t.Run("the payload does not alias the spec", func(t *testing.T) {
		p := NewPayload(c, flaggerv1.CanaryPhaseProgressing, hook)
		p.Metadata["type"] = "changed"
		assert.Equal(t, "cmd", hook.Metadata["type"])
	})
}

func TestChecksum(t *testing.T) {
	a := map[string]string{"configmap/a": "1", "secret/b": "2", "configmap/c": "3"}
	b := map[string]string{"configmap/c": "3", "secret/b": "2", "configmap/a": "1"}
	sum := Checksum(a, "spec1")

	assert.Regexp(t, regexp.MustCompile(`^[a-z0-9]{1,10}$`), sum, "short and safe to print")
	assert.Equal(t, sum, Checksum(b, "spec1"), "stable whatever the map order")
	assert.NotEqual(t, sum, Checksum(a, "spec2"), "changes with the spec")
	assert.NotEqual(t, sum, Checksum(map[string]string{"configmap/a": "9", "secret/b": "2", "configmap/c": "3"}, "spec1"),
		"changes with a tracked config")
	assert.Equal(t, Checksum(nil, "s"), Checksum(map[string]string{}, "s"), "nil and empty are the same")

	c := newCanary()
	c.Status.TrackedConfigs = nil
	assert.Equal(t, Checksum(nil, "5f8b4c6d9"), CanaryChecksum(c))
}

func TestEventPayload(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 123_000_000, time.UTC)
	hook := flaggerv1.CanaryWebhook{Type: flaggerv1.EventHook, Name: "slack-app", URL: "http://events/", Metadata: map[string]string{
		"channel":      "releases",
		"eventMessage": "must not win",
		"eventType":    "must not win",
		"timestamp":    "must not win",
	}}
	c := newCanary()
	p := NewEventPayload(c, hook, "Advance podinfo.test canary weight 10", "Normal", now)

	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"`+CanaryChecksum(c)+`",
		"metadata":{"eventMessage":"Advance podinfo.test canary weight 10","eventType":"Normal",
		"timestamp":"1748779200123","channel":"releases"}}`, string(b))
}

func TestEventHooks(t *testing.T) {
	events := flaggerv1.CanaryWebhook{Type: flaggerv1.EventHook, Name: "e", URL: "http://e/"}
	rollout := flaggerv1.CanaryWebhook{Name: "lt", URL: "http://lt/"}

	assert.Equal(t, []flaggerv1.CanaryWebhook{events},
		EventHooks(newCanary(withHooks(rollout, events)), "http://global/"), "the canary's hooks win")
	assert.Equal(t, []flaggerv1.CanaryWebhook{{Type: flaggerv1.EventHook, Name: "events", URL: "http://global/"}},
		EventHooks(newCanary(withHooks(rollout)), "http://global/"))
	assert.Empty(t, EventHooks(newCanary(withHooks(rollout)), ""))
	assert.Empty(t, EventHooks(newCanary(func(c *flaggerv1.Canary) { c.Spec.Analysis = nil }), ""))
}

func TestWebhooksOfTheCanary(t *testing.T) {
	untyped := flaggerv1.CanaryWebhook{Name: "a"}
	rollout := flaggerv1.CanaryWebhook{Name: "b", Type: flaggerv1.RolloutHook}
	gate := flaggerv1.CanaryWebhook{Name: "c", Type: flaggerv1.ConfirmPromotionHook}
	c := newCanary(withHooks(untyped, gate, rollout))

	assert.Equal(t, []flaggerv1.CanaryWebhook{untyped, rollout}, c.GetAnalysis().WebhooksOf(flaggerv1.RolloutHook))
	assert.Equal(t, []flaggerv1.CanaryWebhook{gate}, c.GetAnalysis().WebhooksOf(flaggerv1.ConfirmPromotionHook))
	assert.Empty(t, c.GetAnalysis().WebhooksOf(flaggerv1.PreRolloutHook))

	c.Spec.CanaryAnalysis, c.Spec.Analysis = c.Spec.Analysis, nil
	assert.Len(t, c.GetAnalysis().WebhooksOf(flaggerv1.RolloutHook), 2, "the deprecated canaryAnalysis is read too")
}
