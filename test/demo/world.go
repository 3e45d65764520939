package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/serin-dev/serin/test/lib/stack"
	"github.com/serin-dev/serin/test/lib/tutorial"
)

// world runs inside the world that up started: it brings the stack up, runs the tutorial, and
// keeps the stack up until SIGTERM (down, or Ctrl-C in up).
func world(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	say := func(format string, args ...any) {
		fmt.Printf("[%6.1fs] %s\n", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}
	say("starting the stack in a private network namespace (cold start ~30 s)")
	s, err := stack.Start(ctx, stack.Options{Dir: o.dir, Serin: o.serin, Loadtester: o.loadtester, Logf: say})
	if err != nil {
		fmt.Printf("%s: %v\n", markerFailed, err)
		return err
	}
	defer func() {
		say("stopping the stack")
		if err := s.Stop(); err != nil {
			say("stopping: %v", err)
		}
		say("stopped")
	}()
	// hack/demo.sh runs commands in the world with this kubeconfig.
	if err := os.Symlink(s.Cluster.KubeconfigPath, filepath.Join(o.dir, "kubeconfig")); err != nil {
		say("linking the kubeconfig: %v", err)
	}
	say("stack up: gateway %s, Prometheus %s, kubeconfig %s", s.GatewayURL, s.PrometheusURL, s.Cluster.KubeconfigPath)
	env, err := tutorial.NewEnv(s, os.Stdout)
	if err == nil {
		err = runTutorial(ctx, env, say)
	}
	switch {
	case ctx.Err() != nil:
		fmt.Printf("== interrupted after %s\n", time.Since(began).Round(time.Second))
	case err != nil:
		fmt.Printf("%s after %s: %v\nThe stack stays up for a look (see %s); make demo-down stops it.\n",
			markerFailed, time.Since(began).Round(time.Second), err, o.dir)
	default:
		hints(o)
		fmt.Printf("%s in %s; the stack stays up until make demo-down\n", markerDone, time.Since(began).Round(time.Second))
	}
	<-ctx.Done()
	return nil
}

// hints tells how to look around in the world after the tutorial.
func hints(o options) {
	fmt.Printf(`
Look around (the stack lives in its own network namespace; hack/demo.sh enters it):
  hack/demo.sh kubectl get canaries,httproutes,pods -A
  hack/demo.sh kubectl -n test describe canary/podinfo
  hack/demo.sh kubectl -n test logs deploy/flagger-loadtester
  hack/demo.sh curl -s -H 'Host: www.example.com' http://127.0.0.1:8000/
Logs: %[1]s/{demo,serin,traefik}.log and %[1]s/pods/<namespace>_<pod>/<container>.log
Stop: make demo-down

`, o.dir)
}
