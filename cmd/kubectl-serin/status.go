package main

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
)

func statusFlags(o *options) {
	o.nargs = 1
	o.fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "how long to wait; exit 2 when it runs out")
	o.fs.DurationVar(&o.interval, "interval", o.interval, "how often to read the canary")
	o.fs.StringVar(&o.revision, "for-revision", "",
		"the revision (status.lastAppliedSpec) to wait for (default: the pod template hash the target Deployment has now)")
}

// runStatus waits until the release of one revision ends and exits 0 when
// it Succeeded, 1 when it Failed, 2 when --timeout runs out first.
//
// A Succeeded or Failed phase counts only for the revision waited for: the
// one the target Deployment runs now (read again at every poll, so a newer
// revision pushed meanwhile is the one waited for), or --for-revision. So
// `kubectl set image … && kubectl serin status NAME` waits for the new
// release even before the operator has noticed it, instead of reporting the
// previous release's result; and a revision already released reports its
// result at once. A change of configs alone (config tracking) keeps the
// template hash, so it is not told apart from the previous release; give
// --for-revision for it. Initialized counts as success: a first revision is
// installed without analysis.
func runStatus(ctx context.Context, c *cli) int {
	name := c.opts.args[0]
	// The deadline is a timer, not the context of the reads: a read near the
	// deadline ends normally rather than failing with it.
	deadline := time.NewTimer(c.opts.timeout)
	defer deadline.Stop()
	var last progress
	var lastErr string
	for {
		cd, err := c.serin.FlaggerV1beta1().Canaries(c.namespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			fmt.Fprintf(c.errOut, "kubectl serin status: %v\n", err)
			return exitError
		case err == nil:
			revision := c.opts.revision
			if revision == "" {
				revision, err = c.targetRevision(ctx, cd)
			}
			if err == nil {
				p := progressOf(cd, revision)
				if p != last {
					fmt.Fprintln(c.out, p.line(time.Now(), cd))
					last = p
				}
				if code, done := verdict(p); done {
					return code
				}
			}
		}
		if err != nil && err.Error() != lastErr {
			fmt.Fprintf(c.errOut, "kubectl serin status: %v (retrying)\n", err)
			lastErr = err.Error()
		}
		select {
		case <-deadline.C:
			fmt.Fprintf(c.errOut, "kubectl serin status: timed out after %s waiting for %s/%s: %s\n",
				c.opts.timeout, c.namespace, name, last.describe())
			return exitTimeout
		case <-ctx.Done():
			fmt.Fprintln(c.errOut, "kubectl serin status: interrupted")
			return exitError
		case <-time.After(c.opts.interval):
		}
	}
}

// targetRevision is the pod template hash of the target Deployment, in the
// format of status.lastAppliedSpec.
func (c *cli) targetRevision(ctx context.Context, cd *flaggerv1.Canary) (string, error) {
	d, err := c.kube.AppsV1().Deployments(cd.Namespace).Get(ctx, cd.Spec.TargetRef.Name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return canary.PodTemplateHash(&d.Spec.Template)
}

// progress is what a status line reports; a new line is printed when it
// changes.
type progress struct {
	phase        flaggerv1.CanaryPhase
	weight       int
	failedChecks int
	// started: the status is about the revision waited for.
	started  bool
	revision string
}

func progressOf(cd *flaggerv1.Canary, revision string) progress {
	return progress{
		phase:        cd.Status.Phase,
		weight:       cd.Status.CanaryWeight,
		failedChecks: cd.Status.FailedChecks,
		started:      cd.Status.LastAppliedSpec == revision,
		revision:     revision,
	}
}

// verdict decides the exit code of status: done only once the status is
// about the revision waited for and its phase is final.
func verdict(p progress) (code int, done bool) {
	if !p.started {
		return 0, false
	}
	switch p.phase {
	case flaggerv1.CanaryPhaseSucceeded, flaggerv1.CanaryPhaseInitialized:
		return exitOK, true
	case flaggerv1.CanaryPhaseFailed:
		return exitFailed, true
	}
	return 0, false
}

func (p progress) describe() string {
	if !p.started {
		return fmt.Sprintf("revision %s not started (phase %s of another revision)", p.revision, dash(string(p.phase)))
	}
	return fmt.Sprintf("revision %s %s, weight %d, failed checks %d", p.revision, dash(string(p.phase)), p.weight, p.failedChecks)
}

func (p progress) line(now time.Time, cd *flaggerv1.Canary) string {
	return fmt.Sprintf("%s %s/%s: %s", now.UTC().Format(time.TimeOnly), cd.Namespace, cd.Name, p.describe())
}
