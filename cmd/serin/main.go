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
	"sync/atomic"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"

	"github.com/serin-dev/serin/pkg/operatormetrics"
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
	log := newLogger(opts.logLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, opts); err != nil {
		log.WithError(err).Error("Serin stopped")
		os.Exit(1)
	}
}

func newLogger(level string) *logrus.Entry {
	logger := logrus.New()
	logger.SetFormatter(&logrus.JSONFormatter{})
	lvl, _ := logrus.ParseLevel(level) // validated with the flags
	logger.SetLevel(lvl)
	return logrus.NewEntry(logger)
}

// run wires the operator and runs it until ctx ends.
func run(ctx context.Context, log *logrus.Entry, opts *options) error {
	log.WithFields(logrus.Fields{"version": version.Version, "meshProvider": opts.meshProvider}).Info("Starting Serin")
	op, err := newOperator(ctx, log, opts)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registry.MustRegister(op.controller.Collectors()...)
	registry.MustRegister(op.alerts.Collectors()...)
	registry.MustRegister(op.recorder.Collectors()...)
	registry.MustRegister(op.events.Collectors()...)
	registry.MustRegister(operatormetrics.Info(version.Version, opts.meshProvider))

	var ready atomic.Bool
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP(ctx, log, opts.port, opts.pprof, registry, &ready) })
	lead := func(ctx context.Context) {
		if err := op.run(ctx, opts.threadiness, &ready); err != nil {
			log.WithError(err).Error("Controller stopped")
		}
	}
	g.Go(func() error {
		if !opts.enableLeaderElection {
			lead(ctx)
			return ctx.Err()
		}
		ready.Store(true) // a follower is healthy while it waits for the lease
		return runAsLeader(ctx, log, op.kube, leaseNamespace(opts.leaderElectionNamespace), lead)
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
