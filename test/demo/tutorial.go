package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/splitmeter"
	"github.com/serin-dev/serin/test/lib/tutorial"
)

// The tutorial's releases: a good one, then one that fails.
const (
	goodImage = "ghcr.io/stefanprodan/podinfo:6.0.1"
	badImage  = "ghcr.io/stefanprodan/podinfo:6.0.2"
	// meterRPS is the demo's own traffic through the gateway, besides the load tester's.
	meterRPS = 20
)

// runTutorial runs the tutorial's sections in order.
func runTutorial(ctx context.Context, env *tutorial.Env, say func(string, ...any)) error {
	section := func(title string) { fmt.Printf("\n== %s\n", title) }

	section("1. Install: the Gateway, the MetricTemplates, the load tester, podinfo and its Canary")
	if err := env.InstallShared(ctx); err != nil {
		return err
	}
	if err := env.InstallApp(ctx, "test"); err != nil {
		return err
	}
	if err := env.ApplyCanary(ctx, "test", nil); err != nil {
		return err
	}
	if _, err := env.WaitPhase(ctx, "test", 3*time.Minute, flaggerv1.CanaryPhaseInitialized); err != nil {
		return err
	}
	if err := env.WaitServed(ctx, "www.example.com", time.Minute); err != nil {
		return err
	}
	say("canary initialized: podinfo-primary serves all traffic through the gateway")
	env.PrintCanaries(ctx)

	section("2. Automated canary promotion: " + goodImage + " under load")
	windows, err := release(ctx, env, goodImage, nil, flaggerv1.CanaryPhaseSucceeded)
	if err != nil {
		return err
	}
	failed := 0
	for _, w := range windows {
		failed += w.Failed
	}
	say("promotion done; failed requests through the gateway during the rollout: %d", failed)

	section("3. Automated rollback: " + badImage + " answering errors (podinfo --random-error)")
	if _, err := release(ctx, env, badImage, map[string]string{"PODINFO_RANDOM_ERROR": "true"}, flaggerv1.CanaryPhaseFailed); err != nil {
		return err
	}
	say("rollback done: podinfo-primary (6.0.1) serves all traffic again")
	return nil
}

// release starts a release, follows it to its end and reports the split the gateway gave.
func release(ctx context.Context, env *tutorial.Env, image string, vars map[string]string, want flaggerv1.CanaryPhase) ([]splitmeter.Window, error) {
	meter := splitmeter.Start(splitmeter.Config{
		URL: env.Stack.GatewayURL + "/", Host: "www.example.com", RPS: meterRPS,
		IsCanary: func(pod string) bool { return !strings.HasPrefix(pod, "podinfo-primary-") },
	}, "before the release", 0)
	defer meter.Stop()
	if err := env.Release(ctx, "test", image, vars); err != nil {
		return nil, err
	}
	cd, err := env.Follow(ctx, "test", 6*time.Minute, meter, tutorial.Finished())
	if err != nil {
		return nil, err
	}
	// A few seconds more, so that the last row shows the split the release ended with.
	time.Sleep(5 * time.Second)
	env.PrintCanaries(ctx)
	windows := meter.Windows()
	fmt.Println("\nTraffic split observed at the gateway (requests sent by the demo, after 1.5 s of settling at each weight):")
	env.PrintWindows(windows)
	if cd.Status.Phase != want {
		return windows, fmt.Errorf("the release ended %s, not %s", cd.Status.Phase, want)
	}
	return windows, nil
}
