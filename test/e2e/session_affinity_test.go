package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestSessionAffinity is the tutorial's "Session Affinity" with
// podinfo-canary-session-affinity.yaml: a weighted release in which the
// canary's responses set the run's cookie and the requests carrying it stick
// to the canary, then, after the promotion, the cookie is deleted from the
// browsers that still send it.
func TestSessionAffinity(t *testing.T) {
	t.Parallel()
	testSessionAffinity(t, "test-session-affinity", "v1")
}

// testSessionAffinity runs the seed session-affinity release with the
// route read and written through an API version.
func testSessionAffinity(t *testing.T, ns, version string) {
	routes := releaseThrough(t, version, seed(t, "podinfo-canary-session-affinity.yaml", ns), "ghcr.io/stefanprodan/podinfo:6.0.1")

	running := waitCanary(t, ns, 2*time.Minute, "a session cookie during the run", func(cd *flaggerv1.Canary) error {
		if cd.Status.CanaryWeight == 0 || cd.Status.SessionAffinityCookie == "" {
			return fmt.Errorf("no weight or cookie yet")
		}
		return nil
	})
	cookie := running.Status.SessionAffinityCookie
	assert.Regexp(t, "^flagger-cookie=[a-zA-Z]{10}$", cookie)
	assert.Empty(t, running.Status.PrimarySessionAffinityCookie, "no primaryCookieName")

	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 4*time.Minute)
	done := canary(t, ns)
	assert.Empty(t, done.Status.SessionAffinityCookie)
	assert.Equal(t, cookie, done.Status.PreviousSessionAffinityCookie, "the run's cookie is retired")

	sticky := "/ Cookie~" + cookieRe(cookie) + " -> primary=0 canary=100 ; "
	step := func(w int) string {
		return sticky + fmt.Sprintf("/ -> primary=%d canary=%d{Set-Cookie: %s; Max-Age=21600}", 100-w, w, cookie)
	}
	expire := "{Set-Cookie: " + cookie + "; Max-Age=-1}"
	routes.requireShapes(
		"/ -> primary=100 canary=0",
		step(10), step(20), step(30), step(40), step(50),
		"/ Cookie~"+cookieRe(cookie)+" -> primary=100"+expire+" canary=0"+expire+" ; / -> primary=100 canary=0",
	)
	requireEvents(t, ns,
		"New revision detected! Scaling up podinfo."+ns,
		"Advance podinfo."+ns+" canary weight 10",
		"Advance podinfo."+ns+" canary weight 50",
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Routing all traffic to primary",
		"Promotion completed! Scaling down podinfo."+ns,
	)
	require.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", targetImage(t, ns, "podinfo-primary"))
}
