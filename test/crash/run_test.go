package crash

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/operator"
	"github.com/serin-dev/serin/test/lib/syncbuf"
)

// Bounds of a run, in clock jumps (each to the next timer, or a minute).
const (
	// bootstrapJumps bounds the canary's initialisation before a release.
	bootstrapJumps = 30
	// referenceJumps bounds a fault-free release.
	referenceJumps = 200
	// stableJumps is how many jumps a final state must last, without a
	// write, to count as the end.
	stableJumps = 2
)

// runSeq numbers the runs' namespaces.
var runSeq atomic.Int64

// run is one release of a scenario, with at most one fault.
type run struct {
	scn  *scenario
	mode mode
	k    int
	env  *env
	ns   string

	clock  *timeline
	act    *activity
	writes *writes
	rec    *recorder
	world  *world
	prom   *promServer
	hooks  *hooks
	logs   *syncbuf.Buffer

	killed    atomic.Bool
	operators int
	jumps     int

	mu    sync.Mutex
	marks map[string]bool
}

// result is what a run did and what was wrong with it.
type result struct {
	scenario string
	mode     mode
	k        int
	// write is the interrupted write; writes all the writes counted.
	write  string
	writes []string
	// missed is set when the run ended before write k: the release made
	// fewer writes than its fault-free run.
	missed bool
	jumps  int
	// fakeTime is how long the release took in fake time; wall in real
	// time.
	fakeTime, wall time.Duration
	outcome        string
	wedged         bool
	// end is what the harness saw last.
	end            view
	shapes, phases []string
	primary        []string
	// versions are the objects' versions in the order written.
	versions   []string
	unready    []string
	unanalysed []string
	// baseline are the violations of the judge's baseline invariants.
	baseline []string
	// refShapes are the route's shapes in the fault-free run.
	refShapes  []string
	violations []string
	logs       string
}

// mark and marked keep a scenario's script state for the run.
func (r *run) mark(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.marks[name] = true
}

func (r *run) marked(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.marks[name]
}

// execute runs scenario scn with the fault (m, k) and checks it against
// the fault-free reference ref (nil for the reference itself).
func execute(ctx context.Context, e *env, scn *scenario, m mode, k int, ref *result) (*result, error) {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &run{
		scn: scn, mode: m, k: k, env: e,
		ns:     fmt.Sprintf("c%d-%s-%s-%d", runSeq.Add(1), scn.name, m, k),
		clock:  newTimeline(),
		act:    newActivity(),
		writes: &writes{},
		logs:   &syncbuf.Buffer{},
		marks:  map[string]bool{},
	}
	if err := r.setUp(ctx); err != nil {
		return nil, fmt.Errorf("%s: set up: %w", r.ns, err)
	}
	defer r.prom.Close()
	defer r.hooks.Close()

	begin := r.clock.Now()
	if scn.bootstrap {
		r.writes.arm(m, k)
	}
	if err := r.createCanary(ctx); err != nil {
		return nil, err
	}
	if !scn.bootstrap {
		ok, err := r.drive(ctx, func(v view) bool { return v.phase == flaggerv1.CanaryPhaseInitialized }, bootstrapJumps)
		if err != nil || !ok {
			return nil, fmt.Errorf("%s: the canary was not initialised (%v): %s", r.ns, err, r.logs.Tail(20))
		}
		r.jumps = 0
		begin = r.clock.Now()
		r.writes.arm(m, k)
		if err := scn.release(ctx, r); err != nil {
			return nil, fmt.Errorf("%s: release: %w", r.ns, err)
		}
	}
	limit := referenceJumps
	if ref != nil {
		limit = 2*ref.jumps + 40
	}
	done, err := r.drive(ctx, r.finished, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.ns, err)
	}
	res := r.result(done, begin)
	if scn.verify != nil {
		res.violations = append(res.violations, scn.verify(ctx, r)...)
	}
	res.wall = time.Since(start)
	res.check(scn, ref)
	if len(res.violations) > 0 {
		res.logs = r.logs.Tail(40)
	}
	return res, nil
}

// setUp creates the namespace, the harness' watches, the world, the
// servers, the target and the MetricTemplate, and starts the first
// operator.
func (r *run) setUp(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.ns}}
	if _, err := r.env.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return err
	}
	r.rec = newRecorder(r.ns, r.act)
	if err := r.rec.start(ctx, r.env); err != nil {
		return err
	}
	r.world = newWorld(r.env, r.ns, r.clock, r.act, r.scn.broken)
	if err := r.world.start(ctx); err != nil {
		return err
	}
	targetImage := func() string { return r.world.image(targetName) }
	r.prom = newPrometheus(r.act, r.clock, targetImage, r.scn.errorRate, newArmCounters(r.world, r.scn.badFraction))
	r.hooks = newHooks(r.act, func(name string) int {
		if r.scn.hook == nil {
			return http.StatusOK
		}
		return r.scn.hook(r, name, r.rec.view())
	})
	if r.scn.daemonSet {
		if _, err := r.env.kube.AppsV1().DaemonSets(r.ns).Create(ctx, targetDaemonSet(r.ns), metav1.CreateOptions{}); err != nil {
			return err
		}
	} else if _, err := r.env.kube.AppsV1().Deployments(r.ns).Create(ctx, target(r.ns), metav1.CreateOptions{}); err != nil {
		return err
	}
	if r.scn.scaledObject {
		if err := createScaledObject(ctx, r); err != nil {
			return err
		}
	}
	for _, mt := range append(judgeTemplates(r.ns, r.prom.URL), errorRateTemplate(r.ns, r.prom.URL)) {
		if _, err := r.env.flagger.FlaggerV1beta1().MetricTemplates(r.ns).Create(ctx, mt, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	return r.startOperator(ctx)
}

// createCanary creates the scenario's Canary.
func (r *run) createCanary(ctx context.Context) error {
	cd := seedCanary(r.ns, r.hooks)
	if r.scn.daemonSet {
		cd.Spec.TargetRef.Kind = "DaemonSet"
	}
	if r.scn.canary != nil {
		r.scn.canary(cd)
	}
	for _, typ := range r.scn.hooksOf() {
		cd.Spec.Analysis.Webhooks = append(cd.Spec.Analysis.Webhooks,
			flaggerv1.CanaryWebhook{Name: string(typ), Type: typ, URL: r.hooks.url(string(typ)), Timeout: "5s"})
	}
	created, err := r.env.flagger.FlaggerV1beta1().Canaries(r.ns).Create(ctx, cd, metav1.CreateOptions{})
	if err == nil {
		r.act.wrote("canaries", resourceVersion(created))
	}
	return err
}

// startOperator starts a fresh operator: new clients through a new fault
// transport, new informers, a new controller. The previous one, if any,
// is dead.
func (r *run) startOperator(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	life := &life{onKill: func() {
		r.act.watch("operator", nil)
		r.killed.Store(true)
		cancel()
	}}
	cfg := rest.CopyConfig(r.env.rest)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return &faultTransport{next: rt, writes: r.writes, act: r.act, life: life}
	}
	r.operators++
	log := logrus.New()
	log.SetOutput(r.logs)
	log.SetLevel(logrus.DebugLevel)
	op, err := operator.New(ctx, operator.Config{
		REST:          cfg,
		Clock:         r.clock,
		Logger:        log.WithField("operator", r.operators),
		Namespace:     r.ns,
		MetricsServer: r.prom.URL,
		Workers:       1,
	})
	if err != nil {
		cancel()
		return fmt.Errorf("operator: %w", err)
	}
	reg := prometheus.NewRegistry()
	for _, c := range op.Collectors() {
		_ = reg.Register(c)
	}
	r.act.watch("operator", func() bool { return queueBusy(reg) })
	go func() { _ = op.Run(ctx) }()
	for !op.HasSynced() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	// The controller starts its workers at its next poll of the caches,
	// up to 100 ms after they synced: let it, before looking for quiet.
	time.Sleep(150 * time.Millisecond)
	return nil
}

// drive lets the run go on until done holds for stableJumps jumps without
// a write, or limit jumps have passed (false). Whenever the operator and
// the world are quiet, it replaces a killed operator, lets the scenario
// change the world, or else jumps the clock to the next timer.
func (r *run) drive(ctx context.Context, done func(view) bool, limit int) (bool, error) {
	stable, writesAt := 0, 0
	for {
		if err := r.act.settle(ctx); err != nil {
			return false, err
		}
		// The world goes on at the instant of a kill, before the fresh
		// operator starts, as it does between two steps.
		v := r.rec.view()
		changed := false
		if r.scn.step != nil {
			var err error
			if changed, err = r.scn.step(ctx, r, v); err != nil {
				return false, err
			}
		}
		if r.killed.Swap(false) {
			if err := r.startOperator(ctx); err != nil {
				return false, err
			}
			changed = true
		}
		if changed {
			stable = 0
			continue
		}
		switch total := r.writes.total(); {
		case !done(v):
			stable = 0
		case stable == 0 || total != writesAt:
			stable, writesAt = 1, total
		default:
			stable++
		}
		if stable > stableJumps {
			return true, nil
		}
		if r.jumps >= limit {
			return false, nil
		}
		r.clock.advance(time.Minute)
		r.act.touch() // the timers fire now; their keys reach the queue just after
		r.jumps++
		r.world.resync()
	}
}

// finished reports whether the release reached its scenario's end.
func (r *run) finished(v view) bool {
	switch r.scn.want {
	case deleted:
		return v.canaryGone && v.targetReady > 0
	case initialized:
		return v.phase == flaggerv1.CanaryPhaseInitialized
	}
	return v.phase == flaggerv1.CanaryPhaseSucceeded || v.phase == flaggerv1.CanaryPhaseFailed
}

// result gathers what the run recorded.
func (r *run) result(done bool, begin time.Time) *result {
	v := r.rec.view()
	shapes, phases, primary, unready, versions := r.rec.history()
	res := &result{
		scenario: r.scn.name, mode: r.mode, k: r.k,
		writes: r.writes.snapshot(), jumps: r.jumps, fakeTime: r.clock.Since(begin),
		end: v, wedged: !done, shapes: shapes, phases: phases, primary: primary, unready: unready, versions: versions,
		unanalysed: r.rec.unanalysed(r.prom.wasQueried, r.scn.skipAnalysis),
	}
	if r.k > 0 && r.k <= len(res.writes) {
		res.write = res.writes[r.k-1]
	}
	res.missed = r.mode != faultless && !r.writes.injected()
	switch {
	case v.canaryGone:
		res.outcome = string(deleted)
	default:
		res.outcome = string(v.phase)
	}
	if r.scn.wantPrimary != "" && v.primary != r.scn.wantPrimary {
		res.violations = append(res.violations, fmt.Sprintf("the primary ends with %s, want %s", short(v.primary), short(r.scn.wantPrimary)))
	}
	if r.scn.want == deleted && v.targetReady == 0 {
		res.violations = append(res.violations, "the target was not restored (no ready pod)")
	}
	res.baseline = r.rec.baselineViolations(done)
	if r.scn.early && v.maxCanary >= r.maxWeight() {
		res.violations = append(res.violations, fmt.Sprintf("the canary reached %d%%, the analysis' maxWeight: the judge did not decide early", v.maxCanary))
	}
	return res
}

// check adds the violations of the invariants to res.
func (res *result) check(scn *scenario, ref *result) {
	var v []string
	if res.wedged {
		v = append(v, fmt.Sprintf("wedged: %s after %d clock jumps (%s of fake time)", res.outcome, res.jumps, res.fakeTime))
	} else if res.outcome != string(scn.want) {
		v = append(v, fmt.Sprintf("ends %s, want %s", res.outcome, scn.want))
	}
	if ref != nil && ref.outcome != res.outcome && !res.wedged {
		v = append(v, fmt.Sprintf("ends %s, the fault-free run %s", res.outcome, ref.outcome))
	}
	for _, u := range res.unready {
		v = append(v, "traffic to an unready Deployment: "+u)
	}
	for _, img := range res.unanalysed {
		v = append(v, "the primary ran an unanalysed template: "+img)
	}
	v = append(v, res.baseline...)
	if ref != nil {
		res.refShapes = ref.shapes
	}
	if ref != nil && strings.Join(res.shapes, "\n") != strings.Join(ref.shapes, "\n") && !skipsInterruptedStep(res, ref) {
		v = append(v, fmt.Sprintf("route weights differ from the fault-free run:\n    got  %s\n    want %s",
			strings.Join(res.shapes, " → "), strings.Join(ref.shapes, " → ")))
	}
	res.violations = append(v, res.violations...)
}

// short drops the image's repository.
func short(image string) string {
	if i := strings.LastIndex(image, ":"); i >= 0 {
		return image[i+1:]
	}
	return image
}

// maxWeight is the analysis' maxWeight of the scenario's Canary.
func (r *run) maxWeight() int {
	cd := seedCanary(r.ns, r.hooks)
	if r.scn.daemonSet {
		cd.Spec.TargetRef.Kind = "DaemonSet"
	}
	if r.scn.canary != nil {
		r.scn.canary(cd)
	}
	return cd.Spec.Analysis.MaxWeight
}

// skipsInterruptedStep reports whether a run's route went through the
// fault-free run's weights but one step, the interrupted write's: a route
// write that failed or whose answer was lost, after which the release went
// another way. A Canary deleted meanwhile is finalised from the weight its
// status records, not stepped first, so that its last shape differs too.
// The invariant allows it: no step skipped but the interrupted one.
func skipsInterruptedStep(res, ref *result) bool {
	if res.mode == kill || !strings.HasPrefix(res.write, "PUT httproutes/") || len(res.shapes) == 0 {
		return false
	}
	if len(res.shapes) == len(ref.shapes)-1 {
		for i := range ref.shapes {
			if slices.Equal(res.shapes, slices.Concat(ref.shapes[:i], ref.shapes[i+1:])) {
				return true
			}
		}
	}
	head := res.shapes[:len(res.shapes)-1]
	return res.outcome == string(deleted) && analysisSteps(res.shapes) == analysisSteps(ref.shapes)-1 &&
		len(head) < len(ref.shapes) && slices.Equal(head, ref.shapes[:len(head)])
}
