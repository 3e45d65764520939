// Command bench measures the serin operator at scale on a real control plane.
//
// It starts etcd, kube-apiserver (with an audit log of the operator's own
// identity), kube-controller-manager, kube-scheduler and KWOK from the test
// harness, builds and runs cmd/serin out of cluster with its default flags,
// creates N Deployments and Canaries, and measures three phases: init (until
// every canary is Initialized), idle (a quiet window) and rollout (a new
// revision in all N, until every canary has Succeeded). It prints a markdown
// report; RESULTS.md in this directory collects the reports of this machine.
//
//	go run ./test/bench -n 1000
//	make bench N=1000
//
// With -compare it runs the same phases for Flagger (its default flags, then
// its limits raised to Serin's defaults) and Serin, each on a fresh control
// plane, and ends with a table of the ratios:
//
//	make bench-compare N=100
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// config is what one run measures; flags fill it in.
type config struct {
	n            int
	interval     time.Duration
	stepWeight   int
	maxWeight    int
	phases       []string
	idle         time.Duration
	perNamespace int
	workloads    string // workloadsKWOK or workloadsSimulated
	prometheus   bool
	profileDir   string
	operator     string   // operatorSerin or operatorFlagger
	serinBinary  string   // a serin built beforehand; empty: build ./cmd/serin
	opFlags      []string // extra operator flags, for tuning experiments
	compare      bool     // Flagger, Flagger with Serin's limits, then Serin
	onboard      int      // canaries created while the N release
	timeout      time.Duration
	eventsWait   time.Duration // bound on the wait for Flagger's Events
	memoryLimit  int64         // bytes; the operator's memory cgroup limit, 0: none
	out          string
	keep         bool
	logf         func(format string, args ...any)
}

const (
	phaseInit    = "init"
	phaseIdle    = "idle"
	phaseRollout = "rollout"

	// workloadsKWOK runs real Deployments: kube-controller-manager makes
	// pods, KWOK marks them Ready.
	workloadsKWOK = "kwok"
	// workloadsSimulated runs no controller manager: the bench writes each
	// Deployment's status as if its rollout had finished at once.
	workloadsSimulated = "simulated"
)

func (c config) has(phase string) bool { return slices.Contains(c.phases, phase) }

func parseFlags(args []string) (config, error) {
	c := config{logf: logf}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&c.n, "n", 100, "Number of Deployments and Canaries.")
	fs.DurationVar(&c.interval, "interval", 10*time.Second, "analysis.interval of every canary.")
	fs.IntVar(&c.stepWeight, "step-weight", 10, "analysis.stepWeight.")
	fs.IntVar(&c.maxWeight, "max-weight", 50, "analysis.maxWeight.")
	phases := fs.String("phases", "init,idle,rollout", "Phases to run, in order: init[,idle][,rollout].")
	fs.DurationVar(&c.idle, "idle", time.Minute, "Length of the idle window.")
	fs.IntVar(&c.perNamespace, "per-namespace", 100, "Canaries per namespace.")
	fs.StringVar(&c.workloads, "workloads", workloadsKWOK, "kwok (real Deployments on KWOK nodes) or simulated (Deployment status written by the bench).")
	fs.BoolVar(&c.prometheus, "prometheus", false, "Give every canary a Prometheus metric, served by a real Prometheus that scrapes the operator.")
	fs.IntVar(&c.onboard, "onboard", 0, "During the rollout, create this many more Deployments and Canaries: their initialisation competes with the N releases' steps.")
	fs.StringVar(&c.operator, "operator", operatorSerin, "Operator to measure: serin (built from this tree) or flagger (v1.44.0, built by hack/testbin.sh flagger).")
	fs.StringVar(&c.serinBinary, "serin-binary", "", "Run this serin binary instead of building ./cmd/serin from the working tree (say, one built from a commit).")
	opFlags := fs.String("operator-flags", "", "Extra operator flags, space-separated (the defaults are what the results are for).")
	fs.BoolVar(&c.compare, "compare", false, "Run Flagger with its default flags, Flagger with Serin's default limits, then Serin, each on a fresh control plane, and print a table of ratios (-operator and -operator-flags are ignored).")
	fs.StringVar(&c.profileDir, "profile", "", "Directory for the operator's CPU and heap profiles of the rollout (enables -pprof).")
	fs.DurationVar(&c.timeout, "timeout", 0, "Bound for each wait; 0 means 5 minutes plus 50 ms per canary (Flagger: 1.5 s per canary).")
	fs.DurationVar(&c.eventsWait, "events-wait", 3*time.Minute, "After the last release, how long to wait for the Events of an operator that does not say what it still holds (Flagger); what has not arrived by then counts as not delivered.")
	memoryLimit := fs.String("memory-limit", "512Mi", "Run the operator in a memory cgroup with this limit, the one the manifests give its container (as root; 0: no cgroup).")
	fs.StringVar(&c.out, "o", "", "Also write the report to this file.")
	fs.BoolVar(&c.keep, "keep", false, "Keep the cluster and bench directories (logs, audit log).")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	q, err := resource.ParseQuantity(*memoryLimit)
	if err != nil {
		return c, fmt.Errorf("-memory-limit: %w", err)
	}
	c.memoryLimit = q.Value()
	c.phases = strings.Split(*phases, ",")
	c.opFlags = strings.Fields(*opFlags)
	return c, c.validate()
}

func (c *config) validate() error {
	for _, p := range c.phases {
		if !slices.Contains([]string{phaseInit, phaseIdle, phaseRollout}, p) {
			return fmt.Errorf("-phases: unknown phase %q", p)
		}
	}
	if !c.has(phaseInit) {
		return fmt.Errorf("-phases must include init: the other phases need initialised canaries")
	}
	if c.n < 1 || c.perNamespace < 1 || c.onboard < 0 {
		return fmt.Errorf("-n and -per-namespace must be at least 1, -onboard at least 0")
	}
	if c.onboard > 0 && !c.has(phaseRollout) {
		return fmt.Errorf("-onboard needs the rollout phase")
	}
	if c.workloads != workloadsKWOK && c.workloads != workloadsSimulated {
		return fmt.Errorf("-workloads must be %s or %s", workloadsKWOK, workloadsSimulated)
	}
	if c.stepWeight < 1 || c.maxWeight < c.stepWeight || c.maxWeight > 100 {
		return fmt.Errorf("-step-weight and -max-weight must satisfy 1 <= step <= max <= 100")
	}
	if c.operator == "" {
		c.operator = operatorSerin
	}
	if err := validOperator(c.operator); err != nil {
		return err
	}
	if c.operator == operatorFlagger && c.profileDir != "" {
		return fmt.Errorf("-profile needs the serin operator (Flagger serves no pprof)")
	}
	return nil
}

// waitBound is the bound for each wait: -timeout, or one that fits the
// operator and N.
func (c config) waitBound() time.Duration {
	if c.timeout > 0 {
		return c.timeout
	}
	return defaultTimeout(c.operator, c.n)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var report string
	if cfg.compare {
		report, err = runCompare(ctx, cfg, os.Stdout)
	} else {
		var res *result
		res, err = run(ctx, cfg)
		if res != nil {
			report = res.markdown()
			fmt.Print(report)
		}
	}
	if cfg.out != "" && report != "" {
		if werr := os.WriteFile(cfg.out, []byte(report), 0o644); werr != nil {
			fmt.Fprintln(os.Stderr, "bench:", werr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
