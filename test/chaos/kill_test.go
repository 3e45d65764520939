package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestKill9DuringReleases runs releases of several canaries at once while the operator is
// killed with SIGKILL at random moments and restarted, each time as a fresh process. Every
// release must still promote (its metrics are good) within a bound, its route must go through
// every weight of the ladder in order, no route may send traffic to a Deployment without
// ready replicas, and the primaries may only run the released images, in order.
//
// The operator runs without leader election here, so that a new process starts working at
// once and the faults come thick: a kill under leader election costs a lease duration, which
// TestLeaderKilled covers.
func TestKill9DuringReleases(t *testing.T) {
	t.Parallel()
	canaries, rounds, bound := 4, 1, 4*time.Minute
	if env.long {
		canaries, rounds, bound = 20, 3, 8*time.Minute
	}
	ns := newNamespace(t, "chaos-kill", env.prom.URL())
	rec := record(t, ns)
	k := newKiller(t, operatorConfig{namespace: ns, promURL: env.prom.URL()})

	var cds []*flaggerv1.Canary
	for i := range canaries {
		cds = append(cds, deploy(t, newCanary(ns, fmt.Sprintf("app-%02d", i))))
	}
	for _, cd := range cds {
		waitCanary(t, ns, cd.Name, 3*time.Minute, "initialized", phaseIs(flaggerv1.CanaryPhaseInitialized))
	}

	k.start()
	var longest time.Duration
	for round := 1; round <= rounds; round++ {
		began := time.Now()
		for _, cd := range cds {
			release(t, ns, cd.Name, image(round))
		}
		longest = max(longest, waitPromoted(t, ns, cds, image(round), began, bound))
	}
	kills := k.finish()

	rec.requireSound(t)
	for _, cd := range cds {
		assert.Equal(t, releaseWeights(cd, rounds), rec.canaryWeights(cd.Name), "%s: canary weights on the route", cd.Name)
		want := []string{firstImage}
		for round := 1; round <= rounds; round++ {
			want = append(want, image(round))
		}
		assert.Equal(t, want, rec.images(cd.Name+"-primary"), "%s: images the primary ran", cd.Name)
		assert.NotContains(t, rec.phases(cd.Name), string(flaggerv1.CanaryPhaseFailed), "%s: phases", cd.Name)
	}
	assert.GreaterOrEqual(t, kills, 1, "the operator was killed during the releases")
	t.Logf("RESULT kill-9: %d kills (seed %d), %d releases of %d canaries at once, all promoted, longest release %s, watch gaps %d",
		kills, k.seed, canaries*rounds, canaries, longest.Round(time.Second), rec.gaps)
}

// waitPromoted waits until every canary is Succeeded with img on its primary, and returns
// how long the slowest took since began.
func waitPromoted(t *testing.T, ns string, cds []*flaggerv1.Canary, img string, began time.Time, bound time.Duration) time.Duration {
	t.Helper()
	done := map[string]time.Duration{}
	must.Eventually(t, bound, time.Second, func() (bool, error) {
		var pending []string
		for _, cd := range cds {
			if _, ok := done[cd.Name]; ok {
				continue
			}
			if promoted(t, ns, cd.Name, img) {
				done[cd.Name] = time.Since(began)
				continue
			}
			c := getCanary(t, ns, cd.Name)
			pending = append(pending, fmt.Sprintf("%s: %s at %d, %d failed checks", cd.Name, c.Status.Phase, c.Status.CanaryWeight, c.Status.FailedChecks))
		}
		if len(pending) > 0 {
			return false, fmt.Errorf("not promoted yet:\n%s", strings.Join(pending, "\n"))
		}
		return true, nil
	}, "every release of %s promoted within %s", img, bound)
	var longest time.Duration
	for _, d := range done {
		longest = max(longest, d)
	}
	return longest
}

// promoted reports whether a canary is Succeeded with img on its primary.
func promoted(t *testing.T, ns, name, img string) bool {
	t.Helper()
	cd := getCanary(t, ns, name)
	if cd.Status.Phase != flaggerv1.CanaryPhaseSucceeded {
		return false
	}
	var d *appsv1.Deployment
	call(t, "get primary", func(ctx context.Context) (err error) {
		d, err = env.kube.AppsV1().Deployments(ns).Get(ctx, name+"-primary", metav1.GetOptions{})
		return err
	})
	return d.Spec.Template.Spec.Containers[0].Image == img
}

// killer runs the operator of a test and, once started, kills it with SIGKILL at random
// moments (2 to 8 s after each start) and starts a fresh one.
type killer struct {
	t    *testing.T
	cfg  operatorConfig
	seed uint64
	rnd  *rand.Rand

	mu      sync.Mutex
	cur     *operator
	kills   int
	err     error
	started bool
	stop    chan struct{}
	done    chan struct{}
}

func newKiller(t *testing.T, cfg operatorConfig) *killer {
	seed := uint64(time.Now().UnixNano())
	k := &killer{t: t, cfg: cfg, seed: seed, rnd: rand.New(rand.NewPCG(seed, 0)),
		cur: startOperator(t, cfg), stop: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() {
		k.finish()
		if op := k.current(); !op.exited() {
			_ = op.stop()
		}
	})
	return k
}

// start begins the kills.
func (k *killer) start() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.started = true
	go k.run()
}

func (k *killer) run() {
	defer close(k.done)
	for {
		wait := 2*time.Second + time.Duration(k.rnd.Int64N(int64(6*time.Second)))
		select {
		case <-k.stop:
			return
		case <-time.After(wait):
		}
		op := k.current()
		if op.exited() {
			k.fail(op.process.Failure("exited by itself (%v)", op.process.ExitErr()))
			return
		}
		op.kill()
		next, err := launchOperator(k.cfg)
		k.mu.Lock()
		k.kills++
		if err != nil {
			k.err = err
			k.mu.Unlock()
			return
		}
		k.cur = next
		k.mu.Unlock()
	}
}

func (k *killer) fail(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.err = err
}

func (k *killer) current() *operator {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cur
}

// finish stops the kills (the operator keeps running) and returns how many there were; it
// fails the test if a process could not be restarted or exited by itself.
func (k *killer) finish() int {
	k.mu.Lock()
	started := k.started
	k.mu.Unlock()
	select {
	case <-k.stop:
	default:
		close(k.stop)
	}
	if started {
		<-k.done // at most one restart away
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		k.t.Errorf("operator: %v", k.err)
		k.err = nil
	}
	return k.kills
}
