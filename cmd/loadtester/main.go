// Command loadtester is Serin's flagger-loadtester: it answers the webhooks
// of a canary analysis (commands, hey load tests, manual gates) with
// Flagger's contract. See package loadtester for the endpoints and the
// security notes on -allow-cmd.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sirupsen/logrus"

	"github.com/serin-dev/serin/pkg/loadtester"
	"github.com/serin-dev/serin/pkg/version"
)

func main() {
	opts, err := parseFlags(flag.CommandLine, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtester:", err)
		os.Exit(2)
	}
	if opts.version {
		fmt.Println(version.Version)
		return
	}
	log := newLogger(opts.logLevel, opts.logEncoding)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(opts.port)))
	if err == nil {
		err = run(ctx, log, opts, ln)
	}
	if err != nil {
		log.WithError(err).Error("Load tester stopped")
		os.Exit(1)
	}
}

func newLogger(level, encoding string) *logrus.Entry {
	logger := logrus.New()
	if encoding == "json" {
		logger.SetFormatter(&logrus.JSONFormatter{})
	}
	lvl, _ := logrus.ParseLevel(level) // validated with the flags
	logger.SetLevel(lvl)
	return logrus.NewEntry(logger)
}

// run serves the load tester on ln until ctx ends, then shuts down
// gracefully: no new connections, then requests and commands get
// -shutdown-grace to finish before they are killed.
func run(ctx context.Context, log *logrus.Entry, opts *options, ln net.Listener) error {
	srv, err := newServer(ctx, log, opts)
	if err != nil {
		_ = ln.Close()
		return err
	}
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	log.WithFields(logrus.Fields{"version": version.Version, "addr": ln.Addr().String()}).Info("Starting the load tester")

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.WithField("grace", opts.shutdownGrace.String()).Info("Shutting down")
	grace, cancel := context.WithTimeout(context.Background(), opts.shutdownGrace)
	defer cancel()
	if err := httpSrv.Shutdown(grace); err != nil {
		log.WithError(err).Warn("Requests still running at the end of the grace period")
	}
	if err := srv.Shutdown(grace); err != nil {
		log.WithError(err).Warn("Commands still running at the end of the grace period were killed")
	}
	_ = httpSrv.Close()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newServer wires the gate store, the metrics and the server.
func newServer(ctx context.Context, log *logrus.Entry, opts *options) (*loadtester.Server, error) {
	store, err := newStore(opts, newKubeClient)
	if err != nil {
		return nil, err
	}
	gates, err := loadtester.NewGates(ctx, store)
	if err != nil {
		return nil, err
	}
	if store != nil {
		// Write once at start-up, so that an unwritable store fails the
		// start rather than the first /gate/open.
		if err := store.Save(ctx, gates.Open()); err != nil {
			return nil, fmt.Errorf("the gate state cannot be saved (point -state-file at a writable path, or set it empty to keep the state in memory): %w", err)
		}
	}
	log.WithField("open", len(gates.Open())).Info("Gate state loaded")
	namespaces, _ := opts.namespaces() // validated with the flags
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	switch {
	case len(opts.allowCmd) == 0:
		log.Warn("No -allow-cmd: any caller that reaches this service can run any command")
	case slices.Contains(opts.allowCmd, loadtester.AllowAny):
		log.Warn("-allow-cmd=*: any caller that reaches this service can run any command")
	}
	return loadtester.NewServer(loadtester.Config{
		Logger:          log,
		Timeout:         opts.timeout,
		NamespaceRegexp: namespaces,
		AllowCmd:        opts.allowCmd,
		Gates:           gates,
		Registry:        registry,
	})
}
