package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/prometheus"
)

// settle is the pause between init and the idle window: the last writes of
// init (targets scaled to zero, their status, events) land meanwhile.
const settle = 5 * time.Second

// bench is one run: the environment, the operator and what watches them.
type bench struct {
	cfg   config
	env   *env
	op    *operator
	prom  *prometheus.Server
	obs   *observer
	procs *procWatch
	apps  []app
	// onboarding are the canaries created during the rollout (-onboard).
	onboarding []app
	query      string
	res        *result
	cgroup     *memoryCgroup // the operator's, with -memory-limit
}

// run starts everything, runs the phases and returns what was measured,
// partially if a phase failed.
func run(ctx context.Context, cfg config) (*result, error) {
	if cfg.keep {
		_ = os.Setenv(cluster.KeepEnv, "1")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e, err := startEnv(ctx, cfg)
	if e != nil {
		defer e.stop(cfg.keep, cfg.logf)
	}
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, env: e, res: &result{cfg: cfg, nodes: len(e.nodes)},
		apps: apps(cfg, e.nodes, "bench", cfg.n), onboarding: apps(cfg, e.nodes, "onboard", cfg.onboard)}
	if cfg.workloads == workloadsSimulated {
		if err := startSimulator(ctx, e); err != nil {
			return nil, err
		}
	}
	query, err := b.startOperator(ctx)
	if b.prom != nil {
		defer func() { _ = b.prom.Stop() }()
	}
	if b.op != nil {
		defer b.op.stop()
	}
	if b.cgroup != nil {
		defer b.cgroup.remove() // after the operator has stopped
	}
	if err != nil {
		return nil, err
	}
	b.procs = newProcWatch(componentPids())
	b.procs.pids[b.op.name] = b.op.pid()
	go b.procs.run(ctx)
	if b.obs, err = startObserver(ctx, e); err != nil {
		return nil, err
	}
	b.query = query
	err = b.phases(ctx, query)
	if cerr := b.countRequests(); err == nil {
		err = cerr
	}
	return b.res, err
}

// startOperator builds or finds the operator, starts it (and Prometheus if
// asked for) and returns the query of the canaries' metric, if any.
func (b *bench) startOperator(ctx context.Context) (string, error) {
	kubeconfig, err := b.env.operatorKubeconfig()
	if err != nil {
		return "", err
	}
	bin := b.cfg.serinBinary
	switch {
	case b.cfg.operator == operatorFlagger:
		bin, err = flaggerBinary()
	case bin == "":
		bin, err = buildOperator(ctx, b.env.dir)
	}
	if err != nil {
		return "", err
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	promURL := ""
	if b.cfg.prometheus {
		// Prometheus scrapes the operator itself: the metric is real, and
		// always healthy.
		b.prom, err = prometheus.Start(ctx, prometheus.Options{ScrapeTargets: []string{fmt.Sprintf("127.0.0.1:%d", port)}, Logf: b.cfg.logf})
		if err != nil {
			return "", err
		}
		promURL = b.prom.URL()
	}
	l := serinLaunch(bin, kubeconfig, port, promURL, b.cfg.profileDir != "", b.cfg.opFlags)
	if b.cfg.operator == operatorFlagger {
		l = flaggerLaunch(bin, kubeconfig, port, promURL, b.cfg.opFlags)
	}
	if b.cfg.memoryLimit > 0 {
		cg, err := newMemoryCgroup(fmt.Sprintf("serin-bench-%d", os.Getpid()), b.cfg.memoryLimit)
		if err != nil {
			return "", err
		}
		b.cgroup = cg
		l.bin, l.args = cg.wrap(l.bin, l.args)
	}
	if b.op, err = startOperator(ctx, l, b.env.dir, port); err != nil || b.prom == nil {
		return "", err
	}
	_, err = b.prom.WaitForSeries(ctx, "up == 1")
	return "min(up) * 100", err
}

func (b *bench) phases(ctx context.Context, query string) error {
	if err := b.initPhase(ctx, query); err != nil {
		return err
	}
	if b.cfg.has(phaseIdle) {
		if err := b.idlePhase(ctx); err != nil {
			return err
		}
	}
	if b.cfg.has(phaseRollout) {
		return b.rolloutPhase(ctx)
	}
	return nil
}

func (b *bench) initPhase(ctx context.Context, query string) error {
	b.procs.begin()
	start := time.Now()
	if err := createAll(ctx, b.env, b.cfg, b.apps, query); err != nil {
		return err
	}
	b.cfg.logf("bench: %d Deployments and Canaries created in %s", b.cfg.n, since(start))
	err := b.waitFor(ctx, "Initialized", flaggerv1.CanaryPhaseInitialized)
	b.res.initWindow = window{start, time.Now()}
	b.res.initTime = b.obs.last(flaggerv1.CanaryPhaseInitialized).Sub(start)
	b.res.initUsage = b.procs.end()
	if err == nil {
		b.res.finish(phaseInit)
	}
	return err
}

func (b *bench) idlePhase(ctx context.Context) error {
	if err := sleep(ctx, settle); err != nil {
		return err
	}
	b.procs.begin()
	start := time.Now()
	b.cfg.logf("bench: idle for %s", b.cfg.idle)
	if err := sleep(ctx, b.cfg.idle); err != nil {
		return err
	}
	b.res.idleWindow = window{start, time.Now()}
	b.res.idleUsage = b.procs.end()
	if err := b.op.alive(); err != nil {
		return err
	}
	b.res.finish(phaseIdle)
	return nil
}

func (b *bench) rolloutPhase(ctx context.Context) error {
	before, err := b.op.get(ctx, "/metrics")
	if err != nil {
		return err
	}
	if b.cfg.profileDir != "" {
		go b.profile(ctx)
	}
	apiBefore, apiErr := b.env.apiserverRequests(ctx)
	eventsBefore, err := canaryEvents(ctx, b.env.kube)
	if err != nil {
		return err
	}
	b.procs.begin()
	start := time.Now()
	if err := newRevision(ctx, b.env, b.apps, b.obs.trigger); err != nil {
		return err
	}
	b.cfg.logf("bench: new revision in %d Deployments in %s", b.cfg.n, since(start))
	onboarded := make(chan error, 1)
	go func() { onboarded <- b.onboard(ctx) }()
	err = b.waitFor(ctx, "Succeeded or Failed", flaggerv1.CanaryPhaseSucceeded, flaggerv1.CanaryPhaseFailed)
	if oerr := <-onboarded; err == nil {
		err = oerr
	}
	end := b.obs.last(flaggerv1.CanaryPhaseSucceeded)
	if err != nil || end.IsZero() {
		end = time.Now()
	}
	b.res.rolloutUsage = b.procs.end()
	b.res.rolloutWindow = window{start, end}
	b.res.failed = b.obs.reached(flaggerv1.CanaryPhaseFailed)
	b.res.rolloutTimes = b.obs.rolloutTimes()
	b.res.gaps = b.obs.stepGaps()
	b.res.stages = b.obs.stages(b.cfg.interval)
	if apiAfter, aerr := b.env.apiserverRequests(ctx); apiErr == nil && aerr == nil {
		b.res.apiserverRollout = apiAfter.sub(apiBefore)
	}
	if after, merr := b.op.get(ctx, "/metrics"); merr == nil {
		b.res.lateness = parseHistogram(after, latenessMetric).sub(parseHistogram(before, latenessMetric))
	}
	if err != nil {
		return err
	}
	b.res.finish(phaseRollout)
	err = b.drainEvents(ctx, end)
	if eventsAfter, eerr := canaryEvents(ctx, b.env.kube); eerr == nil {
		b.res.eventsDelivered = eventsAfter - eventsBefore
	} else if err == nil {
		err = eerr
	}
	if err == nil {
		b.res.finish(phaseEvents)
	}
	return err
}

// drainEvents waits until the operator has delivered the events of the
// releases: Serin says how many it still holds; Flagger (client-go's event
// broadcaster) does not, so the bench waits until the Canaries' Events stop
// changing, or until -events-wait after the last release: at its default
// flags Flagger posts about one Event per 10 s at N = 1,000, for longer than
// its releases took, and what has not arrived by then counts as lost.
func (b *bench) drainEvents(ctx context.Context, end time.Time) error {
	if b.op.name == operatorSerin {
		return b.waitForEvents(ctx, end)
	}
	settled, err := waitEventsSettled(ctx, b.env.kube, time.Until(end.Add(b.cfg.eventsWait)), b.cfg.logf)
	if err != nil {
		return err
	}
	if !settled {
		b.res.eventsCut = true
		b.cfg.logf("bench: the Canaries' Events still changing %s after the last release: counting what has arrived", b.cfg.eventsWait)
		return nil
	}
	b.res.eventsPosted = max(0, time.Since(end)-eventsQuiet)
	return nil
}

// waitForEvents waits until the operator has posted every event it
// recorded, and notes how long after the last release that was and how
// many it dropped. The operator queues events and posts them apart from
// the steps: on a saturated API server they trail the releases, and
// stopping the operator at once would cut them off.
func (b *bench) waitForEvents(ctx context.Context, end time.Time) error {
	deadline := time.Now().Add(b.cfg.waitBound())
	for {
		text, err := b.op.get(ctx, "/metrics")
		if err != nil {
			return err
		}
		pending, ok := parseSample(text, eventsPendingMetric)
		if !ok {
			return fmt.Errorf("the operator exposes no %s", eventsPendingMetric)
		}
		if pending == 0 {
			b.res.eventsPosted = time.Since(end)
			b.res.eventsDropped, _ = parseSample(text, eventsDroppedMetric)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%.0f events still pending %s after the last release", pending, since(end))
		}
		b.cfg.logf("bench: %.0f events pending %s after the last release", pending, since(end))
		if err := sleep(ctx, 5*time.Second); err != nil {
			return err
		}
	}
}

// onboard creates the -onboard canaries once the releases have started, as
// a team adopting Serin would while others release, and waits for them to
// initialise: each costs eleven writes, which compete with the releases'
// steps for the operator's workers and the API server.
func (b *bench) onboard(ctx context.Context) error {
	if len(b.onboarding) == 0 {
		return nil
	}
	if err := sleep(ctx, 2*time.Second); err != nil {
		return err
	}
	start := time.Now()
	if err := createAll(ctx, b.env, b.cfg, b.onboarding, b.query); err != nil {
		return err
	}
	b.cfg.logf("bench: %d more Deployments and Canaries created during the rollout in %s", len(b.onboarding), since(start))
	total := b.cfg.n + len(b.onboarding)
	err := poll(ctx, b.cfg.waitBound(), func() (bool, error) {
		return b.obs.reached(flaggerv1.CanaryPhaseInitialized) >= total, nil
	})
	b.res.onboardTime = time.Since(start)
	b.cfg.logf("bench: the %d onboarded canaries Initialized after %s", len(b.onboarding), since(start))
	return err
}

// waitFor waits until every canary has reached one of phases, logging
// progress every ten seconds.
func (b *bench) waitFor(ctx context.Context, what string, phases ...flaggerv1.CanaryPhase) error {
	start, lastLog := time.Now(), time.Now()
	return poll(ctx, b.cfg.waitBound(), func() (bool, error) {
		if err := b.op.alive(); err != nil {
			return false, err
		}
		n := b.obs.reached(phases...)
		if n >= b.cfg.n {
			b.cfg.logf("bench: all %d canaries %s after %s", n, what, since(start))
			return true, nil
		}
		if time.Since(lastLog) >= 10*time.Second {
			lastLog = time.Now()
			b.cfg.logf("bench: %d/%d canaries %s after %s", n, b.cfg.n, what, since(start))
		}
		return false, nil
	})
}

// countRequests attributes the operator's audited requests to the phases.
func (b *bench) countRequests() error {
	windows := []window{b.res.initWindow, b.res.idleWindow, b.res.rolloutWindow}
	counts, err := countRequests(b.env.auditLog, operatorUser, windows)
	if err != nil {
		return fmt.Errorf("reading the audit log: %w", err)
	}
	b.res.initRequests, b.res.idleRequests, b.res.rolloutRequests = counts[0], counts[1], counts[2]
	return nil
}

// profile saves a CPU profile of the rollout's first minute and a heap
// profile after it.
func (b *bench) profile(ctx context.Context) {
	for _, p := range []struct{ path, file string }{
		{"/debug/pprof/profile?seconds=60", "cpu.pprof"},
		{"/debug/pprof/heap", "heap.pprof"},
	} {
		data, err := b.op.get(ctx, p.path)
		if err == nil {
			err = os.WriteFile(filepath.Join(b.cfg.profileDir, p.file), data, 0o644)
		}
		if err != nil {
			b.cfg.logf("bench: profile %s: %v", p.file, err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
