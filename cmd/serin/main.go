// Command serin is the Serin operator: it runs canary releases of
// Deployments through the Gateway API, analysed with Prometheus metrics and
// webhooks, and promotes or rolls them back by itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/serin-dev/serin/pkg/operator"
	"github.com/serin-dev/serin/pkg/telemetry"
	"github.com/serin-dev/serin/pkg/version"
)

func main() {
	opts, err := parseFlags(flag.CommandLine, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "serin:", err)
		os.Exit(2)
	}
	if opts.version {
		fmt.Println(version.Version)
		return
	}
	log := newLogger(opts.logLevel, opts.logEncoding)
	switch soft, limit, err := setMemoryLimit(hostRoot(), os.Getenv); {
	case err != nil:
		log.WithError(err).Warn("Cannot read the cgroup's memory limit: the Go runtime has no soft memory limit")
	case soft > 0:
		log.Infof("Go soft memory limit %d MiB: %.0f%% of the cgroup's %d MiB (set GOMEMLIMIT to override)",
			soft>>20, memoryLimitShare*100, limit>>20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, opts); err != nil {
		log.WithError(err).Error("Serin stopped")
		os.Exit(1)
	}
}

// newLogger returns the operator's logger. Flagger's -zap-encoding picks
// the format: json (the default), or console, which is logrus' text.
func newLogger(level, encoding string) *logrus.Entry {
	logger := logrus.New()
	if encoding == "console" {
		logger.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	} else {
		logger.SetFormatter(&logrus.JSONFormatter{})
	}
	lvl, _ := logrus.ParseLevel(level) // validated with the flags
	logger.SetLevel(lvl)
	return logrus.NewEntry(logger)
}

// run wires the operator and runs it until ctx ends.
func run(ctx context.Context, log *logrus.Entry, opts *options) error {
	log.WithFields(logrus.Fields{"version": version.Version, "meshProvider": opts.meshProvider}).Info("Starting Serin")
	warnFlaggerOnly(log, opts.flaggerOnly)
	if opts.egress != nil {
		log.WithField("allowed", opts.egress.String()).Info("Webhooks and alerts are bounded by -webhook-allowed-hosts")
	}
	cfg, err := clientcmd.BuildConfigFromFlags(opts.master, opts.kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(opts.qps), opts.burst
	cfg.UserAgent = rest.DefaultKubernetesUserAgent() + " serin"
	// The operator's event recorder must outlive SIGTERM: the syncs that
	// finish after it record events too. Run stops it when it returns.
	opCfg := opts.operatorConfig(cfg, log)
	for _, name := range unlistedURLs(opCfg) {
		log.WithField("flag", name).Warn("This URL's host is not listed by -webhook-allowed-hosts: calls to it are refused unless it resolves to a listed address")
	}
	op, err := operator.New(context.WithoutCancel(ctx), opCfg)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registry.MustRegister(op.Collectors()...)
	registry.MustRegister(telemetry.Info(version.Version, opts.meshProvider))

	// A replica waiting for the lease is healthy: it has no cache to warm.
	ready := func() bool { return opts.enableLeaderElection || op.HasSynced() }
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP(ctx, log, opts.port, opts.pprof, registry, ready) })
	lead := func(lease context.Context) { runUntilStopped(ctx, lease, log, op, opts.shutdownGrace) }
	g.Go(func() error {
		if !opts.enableLeaderElection {
			lead(context.Background())
			return ctx.Err()
		}
		// The lease has a client of its own, so that the operator's
		// requests never hold back a renewal behind the rate limiter.
		kube, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return err
		}
		return runAsLeader(ctx, log, kube, leaseNamespace(opts.leaderElectionNamespace), lead)
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// runUntilStopped runs op until SIGTERM (the end of ctx) or the loss of the lease,
// then stops it gracefully: the syncs in flight may finish for up to grace
// after SIGTERM, and for up to lostLeaseDrain after the loss of the lease,
// since another replica may take over soon after. It returns when op has
// stopped; only then may the lease be released.
func runUntilStopped(ctx, lease context.Context, log *logrus.Entry, op *operator.Operator, grace time.Duration) {
	running, hardStop := context.WithCancel(context.WithoutCancel(ctx))
	defer hardStop()
	go func() {
		select {
		case <-ctx.Done():
		case <-lease.Done():
			grace = lostLeaseDrain
		case <-running.Done():
			return
		}
		log.WithField("grace", grace).Info("Stopping: letting the syncs in flight finish")
		drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
		defer cancel()
		if err := op.Shutdown(drain); err != nil {
			log.WithError(err).Warn("The grace period ended; syncs in flight were cancelled")
		}
	}()
	if err := op.Run(running); err != nil && !errors.Is(err, context.Canceled) {
		log.WithError(err).Error("Controller stopped")
	}
}
