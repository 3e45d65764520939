package crash

import (
	"regexp"
	"strings"
	"sync"
	"time"
)

// requestsPerWeight is how many requests an arm serves per minute of fake
// time for each point of route weight it has: 20,000 a minute at 10%, so
// that the judge sees hundreds of bad events per tick and decides at its
// first tick with enough traffic, with a margin no retry can shift (a
// retried query adds seconds of fake time, a few percent of a tick).
const requestsPerWeight = 2000

// workloadLabel and badLabel are what the judge's templates put in a query:
// the arm's Deployment ({{ workload }}), and for the bad-event counter the
// 5xx codes (judgeTemplates).
var (
	workloadLabel = regexp.MustCompile(`deployment="([^"]+)"`)
	badLabel      = `code=~"5..`
)

// armState is what one arm would have counted so far, as Traefik's
// counters per backend Service do: cumulative, never reset while the
// gateway runs, whatever happens to the pods.
type armState struct {
	requests, bad float64
	at            time.Time
}

// armCounters answers the judge's per-arm counter queries from the world:
// an arm serves requestsPerWeight × its route weight a minute while its
// Deployment has a ready pod, and fails the fraction of them that the
// scenario's badFraction gives the image the Deployment runs. Counts grow
// with fake time, integrated lazily at each query from the previous one:
// the same queries at the same fake instants give the same answers, so a
// run is as deterministic as its clock.
type armCounters struct {
	world       *world
	badFraction func(image string) float64

	mu   sync.Mutex
	arms map[string]*armState
}

func newArmCounters(w *world, badFraction func(string) float64) *armCounters {
	return &armCounters{world: w, badFraction: badFraction, arms: map[string]*armState{}}
}

// answer returns the value of a judge query, and false for any other
// query.
func (c *armCounters) answer(query string, now time.Time) (float64, bool) {
	m := workloadLabel.FindStringSubmatch(query)
	if m == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.arms[m[1]]
	if st == nil {
		st = &armState{at: now}
		c.arms[m[1]] = st
	}
	if dt := now.Sub(st.at); dt > 0 {
		image, ready, weight := c.world.arm(m[1])
		if ready && weight > 0 {
			served := requestsPerWeight * float64(weight) * dt.Minutes()
			st.requests += served
			if c.badFraction != nil {
				st.bad += served * c.badFraction(image)
			}
		}
		st.at = now
	}
	if strings.Contains(query, badLabel) {
		return st.bad, true
	}
	return st.requests, true
}

// judgeErrors is the bad-event fraction of the judge's scenarios: 1% for
// every image (an A/A release has errors too, or the judge could never
// pass it early), 3% for imageWorse.
func judgeErrors(image string) float64 {
	if image == imageWorse {
		return 0.03
	}
	return 0.01
}

// arm returns what the world knows of the arm whose Deployment is
// workload: the image it runs, whether it has a ready pod, and the weight
// the route's weighted rule gives its Service (backends, reversed).
func (w *world) arm(workload string) (image string, ready bool, weight int) {
	dep, err := w.deployments.Apps().V1().Deployments().Lister().Deployments(w.ns).Get(workload)
	if err != nil {
		return "", false, 0
	}
	image = imageOf(&dep.Spec.Template)
	ready = dep.Status.ReadyReplicas > 0 && (dep.Spec.Replicas == nil || *dep.Spec.Replicas > 0)
	routes, _ := w.routes.Gateway().V1().HTTPRoutes().Lister().HTTPRoutes(w.ns).List(everything)
	for _, route := range routes {
		for _, rule := range route.Spec.Rules {
			for _, ref := range rule.BackendRefs {
				if backends[string(ref.Name)] == workload {
					weight = max(weight, weightOf(ref))
				}
			}
		}
	}
	return image, ready, weight
}
