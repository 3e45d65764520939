package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/metricsexporter"
)

// TestSessionAffinityPrimaryCookie extends the seed's session affinity with
// primaryCookieName and every cookie attribute, over two runs: one promoted
// and one rolled back. Each run has its own cookies; the primary's lives
// one analysis interval; and each run's canary cookie is deleted after it,
// whichever way it ends.
func TestSessionAffinityPrimaryCookie(t *testing.T) {
	t.Parallel()
	const ns = "test-session-affinity-primary"
	deploy(t, seed(t, "podinfo-canary-session-affinity.yaml", ns, shortLadder(),
		set(int64(1), "spec", "analysis", "threshold"),
		set("primary-flagger-cookie", "spec", "analysis", "sessionAffinity", "primaryCookieName"),
		set("example.com", "spec", "analysis", "sessionAffinity", "domain"),
		set("/", "spec", "analysis", "sessionAffinity", "path"),
		set("Strict", "spec", "analysis", "sessionAffinity", "sameSite"),
		set(true, "spec", "analysis", "sessionAffinity", "secure"),
		set(true, "spec", "analysis", "sessionAffinity", "httpOnly"),
		set(true, "spec", "analysis", "sessionAffinity", "partitioned"),
	))
	routes := recordRoutes(t, ns, "v1")
	const attrs = "; Domain=example.com; Path=/; SameSite=Strict; Secure; HttpOnly; Partitioned"

	// run releases an image and returns the run's cookies once it splits
	// traffic.
	run := func(image string) (string, string) {
		setImage(t, ns, image)
		cd := waitCanary(t, ns, 2*time.Minute, "cookies at 50%", func(cd *flaggerv1.Canary) error {
			if cd.Status.CanaryWeight != 50 || cd.Status.PrimarySessionAffinityCookie == "" {
				return fmt.Errorf("not at 50%% with cookies yet")
			}
			return nil
		})
		assert.Regexp(t, "^flagger-cookie=[a-zA-Z]{10}$", cd.Status.SessionAffinityCookie)
		assert.Regexp(t, "^primary-flagger-cookie=[a-zA-Z]{10}$", cd.Status.PrimarySessionAffinityCookie)
		return cd.Status.SessionAffinityCookie, cd.Status.PrimarySessionAffinityCookie
	}
	running := func(c, p string) string {
		return "/ Cookie~" + cookieRe(c) + " -> primary=0 canary=100 ; " +
			"/ Cookie~" + cookieRe(p) + " -> primary=100 canary=0 ; " +
			"/ -> primary=50{Set-Cookie: " + p + "; Max-Age=10" + attrs + "} canary=50{Set-Cookie: " + c + "; Max-Age=21600" + attrs + "}"
	}
	expired := func(c string) string {
		expire := "{Set-Cookie: " + c + "; Max-Age=-1" + attrs + "}"
		return "/ Cookie~" + cookieRe(c) + " -> primary=100" + expire + " canary=0" + expire + " ; " + split(100, 0)
	}

	c1, p1 := run("ghcr.io/stefanprodan/podinfo:6.0.1")
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 3*time.Minute)
	assert.Equal(t, c1, canary(t, ns).Status.PreviousSessionAffinityCookie)

	env.exporter.Set(ns, "podinfo", metricsexporter.Traffic{RPS: 20, ErrorRatio: 0.5, Latency: 20 * time.Millisecond})
	c2, p2 := run("ghcr.io/stefanprodan/podinfo:6.0.2")
	assert.NotEqual(t, c1, c2, "a cookie per run")
	assert.NotEqual(t, p1, p2, "a primary cookie per run")
	waitPhase(t, ns, flaggerv1.CanaryPhaseFailed, 2*time.Minute)
	cd := canary(t, ns)
	assert.Equal(t, c2, cd.Status.PreviousSessionAffinityCookie)
	assert.Empty(t, cd.Status.SessionAffinityCookie)
	assert.Empty(t, cd.Status.PrimarySessionAffinityCookie)

	routes.requireShapes(split(100, 0), running(c1, p1), expired(c1), running(c2, p2), expired(c2))
	// Identical events are folded into one with a count, so the second run
	// shows in the counts.
	assert.Equal(t, 2, eventCount(t, ns, "Advance podinfo."+ns+" canary weight 50"))
	requireEvents(t, ns,
		"Promotion completed! Scaling down podinfo."+ns,
		"Rolling back podinfo."+ns+" failed checks threshold reached 1",
		"Canary failed! Scaling down podinfo."+ns,
	)
}
