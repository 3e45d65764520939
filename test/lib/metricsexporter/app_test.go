package metricsexporter

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestAppHistogramFollowsTraffic(t *testing.T) {
	e, clock := newFakeExporter(t)
	e.Set("test", "podinfo", Traffic{RPS: 10, ErrorRatio: 0.25, Latency: 20 * time.Millisecond})
	e.Set("test", "podinfo-primary", Traffic{RPS: 2, Latency: 20 * time.Millisecond})
	clock.step(30 * time.Second)

	s := scrape(t, e)
	pod := []string{"kubernetes_namespace", "test", "kubernetes_pod_name", "podinfo" + appPodSuffix}
	ok, failed := append(pod, "status", "200"), append(pod, "status", "500")
	assert.InDelta(t, 225, value(t, s, appRequestDuration+"_count", ok...), 1e-9)
	assert.InDelta(t, 75, value(t, s, appRequestDuration+"_count", failed...), 1e-9)
	assert.InDelta(t, 0, value(t, s, appRequestDuration+"_bucket", append(ok, "le", "0.01")...), 1e-9)
	assert.InDelta(t, 225, value(t, s, appRequestDuration+"_bucket", append(ok, "le", "0.025")...), 1e-9)
	assert.InDelta(t, 75, value(t, s, appRequestDuration+"_bucket", append(failed, "le", "+Inf")...), 1e-9)
	assert.InDelta(t, 225*0.02, value(t, s, appRequestDuration+"_sum", ok...), 1e-9)

	// The builtin metrics' pod regex selects the canary's pod, not the primary's.
	canaryPods := regexp.MustCompile(`^podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)$`)
	assert.True(t, canaryPods.MatchString("podinfo"+appPodSuffix))
	assert.False(t, canaryPods.MatchString("podinfo-primary"+appPodSuffix))
	assert.InDelta(t, 60, value(t, s, appRequestDuration+"_count",
		"kubernetes_pod_name", "podinfo-primary"+appPodSuffix, "status", "200"), 1e-9)
}
