package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// fieldManager owns the request annotations, so that a GitOps tool
// applying the Canary with its own manager neither owns nor removes them.
const fieldManager = "kubectl-serin"

func requestFlags(o *options) {
	o.nargs = 1
	o.fs.BoolVar(&o.wait, "wait", true, "wait until the operator acknowledges the request")
	o.fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long --wait waits; exit 2 when it runs out")
	o.fs.DurationVar(&o.interval, "interval", time.Second, "how often --wait reads the canary")
}

func promoteFlags(o *options) {
	requestFlags(o)
	o.fs.BoolVar(&o.full, "full", false, "promote now, skipping the rest of the analysis of this revision")
}

// actionOf maps a command to its request.
func actionOf(o *options) string {
	switch {
	case o.name == "promote" && o.full:
		return analysis.RequestPromoteFull
	case o.name == "promote":
		return analysis.RequestPromote
	case o.name == "abort":
		return analysis.RequestAbort
	case o.name == "pause":
		return analysis.RequestPause
	case o.name == "resume":
		return analysis.RequestResume
	}
	return analysis.RequestRetry
}

// runRequest annotates the canary with a request for the revision its
// status names, and waits for the operator's answer: 0 when it acted, 1
// when it ignored the request (its event says why) or another request
// replaced it, 2 when no answer came in time.
func runRequest(ctx context.Context, c *cli) int {
	name, action := c.opts.args[0], actionOf(c.opts)
	id, err := c.sendRequest(ctx, name, action)
	if err != nil {
		fmt.Fprintf(c.errOut, "kubectl serin %s: %v\n", c.opts.name, err)
		return exitError
	}
	fmt.Fprintf(c.out, "request %s (%s) sent to %s/%s\n", action, id, c.namespace, name)
	if !c.opts.wait {
		return exitOK
	}
	deadline := time.NewTimer(c.opts.timeout)
	defer deadline.Stop()
	for {
		a, err := c.acknowledgement(ctx, name, id)
		if err == nil && a.state != pending {
			return a.report(c)
		}
		select {
		case <-deadline.C:
			fmt.Fprintf(c.errOut, "kubectl serin %s: %s not acknowledged within %s: %s\n",
				c.opts.name, id, c.opts.timeout, a.describe(err))
			return exitTimeout
		case <-ctx.Done():
			fmt.Fprintf(c.errOut, "kubectl serin %s: interrupted; %s stays pending\n", c.opts.name, id)
			return exitError
		case <-time.After(c.opts.interval):
		}
	}
}

// sendRequest sets the three request annotations with a merge patch and
// returns the new request's id. The revision is read from the status just
// before: a request made for what the user saw is ignored by the operator
// if another revision has started meanwhile.
func (c *cli) sendRequest(ctx context.Context, name, action string) (string, error) {
	cd, err := c.serin.FlaggerV1beta1().Canaries(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	id, err := newID(action)
	if err != nil {
		return "", err
	}
	// Pause and resume hold or free the canary whatever revision it runs;
	// the others are for the revision the user saw. null removes the
	// annotation a former request left.
	var revision any = cd.Status.LastAppliedSpec
	if action == analysis.RequestPause || action == analysis.RequestResume {
		revision = nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{
		analysis.RequestAnnotation:         action,
		analysis.RequestIDAnnotation:       id,
		analysis.RequestRevisionAnnotation: revision,
	}}})
	if err != nil {
		return "", err
	}
	_, err = c.serin.FlaggerV1beta1().Canaries(c.namespace).Patch(ctx, name, types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: fieldManager})
	return id, err
}

// newID is a fresh request id: the action and 8 random hex digits, so
// that the operator's events read well and two requests never collide.
func newID(action string) (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return action + "-" + hex.EncodeToString(b), nil
}

// ackState is where a request is.
type ackState int

const (
	pending    ackState = iota
	acted               // handled, and its event says what was done
	ignored             // handled by an event saying why it was ignored
	superseded          // another request replaced its annotations
)

// ack is the operator's answer to a request, as far as it has come.
type ack struct {
	state   ackState
	id      string
	handled bool // status.lastHandledRequest names it; its event may lag
	event   *corev1.Event
	other   string // the request that replaced it
}

// acknowledgement reads the canary and its events.
func (c *cli) acknowledgement(ctx context.Context, name, id string) (ack, error) {
	cd, err := c.serin.FlaggerV1beta1().Canaries(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return ack{id: id}, err
	}
	var events []corev1.Event
	if cd.Status.LastHandledRequest == id {
		list, err := c.kube.CoreV1().Events(c.namespace).List(ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.kind=Canary,involvedObject.name=" + name,
		})
		if err != nil {
			return ack{id: id, handled: true}, err
		}
		events = list.Items
	}
	return acknowledge(cd, events, id), nil
}

// acknowledge decides where request id is from the canary and its events.
// A request is answered once the status names it and the operator's event
// about it is there: the event says whether it acted or ignored it.
func acknowledge(cd *flaggerv1.Canary, events []corev1.Event, id string) ack {
	a := ack{id: id, handled: cd.Status.LastHandledRequest == id}
	if !a.handled {
		if current := cd.Annotations[analysis.RequestIDAnnotation]; current != id {
			return ack{state: superseded, id: id, other: current}
		}
		return a
	}
	for i := range events {
		e := &events[i]
		if !strings.Contains(e.Message, id) {
			continue
		}
		if a.event == nil || lastSeen(*e).After(lastSeen(*a.event)) {
			a.event = e
		}
	}
	switch {
	case a.event == nil:
		a.state = pending
	case strings.Contains(a.event.Message, " ignored: "):
		a.state = ignored
	default:
		a.state = acted
	}
	return a
}

// report prints the answer and returns the exit code.
func (a ack) report(c *cli) int {
	switch a.state {
	case superseded:
		fmt.Fprintf(c.errOut, "kubectl serin %s: %s was replaced by request %s before the operator handled it\n",
			c.opts.name, a.id, dash(a.other))
		return exitFailed
	case ignored:
		fmt.Fprintln(c.errOut, eventLine(a.event))
		return exitFailed
	}
	fmt.Fprintln(c.out, eventLine(a.event))
	return exitOK
}

func (a ack) describe(err error) string {
	switch {
	case err != nil:
		return err.Error()
	case a.handled:
		return "the status names it but its event has not arrived (whether it was ignored is unknown)"
	}
	return "status.lastHandledRequest does not name it yet; is the operator running?"
}

// eventLine renders an event as kubectl's events table does: type, reason,
// message.
func eventLine(e *corev1.Event) string {
	return fmt.Sprintf("%s %s %s", e.Type, e.Reason, e.Message)
}
