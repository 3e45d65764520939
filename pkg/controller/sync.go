package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/history"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/pkg/syncerr"
	"github.com/serin-dev/serin/pkg/webhook"
)

// sync brings one canary a step forward: observe from listers, ask the
// state machine, apply its actions, record its events, write the status if
// it changed, and schedule the next step.
func (c *Controller) sync(ctx context.Context, key cache.ObjectName) error {
	cd, err := c.canaries.Canaries(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		c.gone(key)
		return nil
	}
	if err != nil {
		return err
	}
	now := c.clock.Now()
	c.schedule.identify(key, cd.UID)
	if !c.caughtUp(key, cd, now) {
		return nil // our write's informer event, or its timeout, enqueues it again
	}
	c.schedule.change(key, false)
	if !c.due(ctx, key, cd, now) {
		c.renderTemplate(ctx, cd)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.syncTimeout(cd))
	defer cancel()
	c.metrics.observeLateness(c.schedule.lateness(key, now))
	before, observed := cd.Status, cd
	defer func() { c.cfg.Plugins.Releases.ObserveDuration(observed, c.clock.Since(now)) }()
	log := canaryLog(c.log, cd.Namespace, cd.Name)

	rt, err := c.routerFor(cd)
	if err != nil {
		return c.invalid(ctx, key, cd, log, err)
	}
	if err := c.refusedRefs(cd); err != nil {
		return c.invalid(ctx, key, cd, log, err)
	}
	obs, err := c.observe(ctx, cd, rt)
	if syncerr.IsPermanent(err) {
		return c.invalid(ctx, key, cd, log, err)
	}
	if err != nil {
		return err
	}
	k := c.newChecks(cd, log)
	decision := analysis.Step(ctx, analysis.Input{Canary: cd, Now: now, Observed: obs, Checks: k})
	if stopped(ctx) {
		return context.Cause(ctx) // see stopped: nothing was changed yet
	}
	tickChecks := k.records.take()
	decision.Status.Checks = latestChecks(decision.Status.Checks, tickChecks)
	if decision.Status.Run > 0 {
		decision.Status.History = history.Name(cd.Name)
	}

	a := c.newApplier(cd, rt, k, decision.Status)
	cd, applyErr := a.apply(ctx, decision.Actions)
	if syncerr.IsPermanent(applyErr) {
		return c.invalid(ctx, key, cd, log, applyErr)
	}
	if applyErr != nil {
		// The decision was not carried out: its events and status would
		// describe something that did not happen. Say what failed instead,
		// and let the retry recompute the step.
		c.recordEvent(ctx, cd, log, analysis.Event{Type: corev1.EventTypeWarning, Reason: analysis.EventReason, Message: applyErr.Error()})
		return applyErr
	}
	if cd.DeletionTimestamp == nil || !hasAction[analysis.RemoveFinalizer](decision.Actions) {
		// The status is written with a context of its own: a step whose
		// route was moved must record it even when the sync ran out of
		// time or the operator is shutting down.
		wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), statusWriteTimeout)
		err := c.writeStatus(wctx, cd, decision.Status)
		wcancel()
		if err != nil {
			c.holdMovedTraffic(key, cd, decision.Actions, now)
			return err
		}
		// After the write only, so that a retried step is not counted twice.
		c.cfg.Plugins.Releases.ObserveTransition(cd, before, decision.Status)
	}
	// The status now records the phase the rest of the step belongs to;
	// that phase makes these actions again if they fail here.
	cd, afterErr := a.apply(ctx, decision.AfterStatus)
	// Events and alerts only once the status that explains them is written,
	// so that a failed write does not repeat them.
	for _, event := range append(decision.Events, a.events...) {
		c.recordEvent(ctx, cd, log, event)
	}
	for _, alert := range decision.Alerts {
		c.sendAlert(ctx, cd, log, alert)
	}
	hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), statusWriteTimeout)
	err = c.appendHistory(hctx, cd, decision.Status, append(tickChecks, k.records.take()...), append(decision.Events, a.events...))
	hcancel()
	if err != nil {
		log.WithError(err).Warn("history: this tick's entry is lost")
	}
	if afterErr != nil {
		c.recordEvent(ctx, cd, log, analysis.Event{Type: corev1.EventTypeWarning, Reason: analysis.EventReason, Message: afterErr.Error()})
		return afterErr
	}
	c.plan(key, decision.Next, now)
	return nil
}

// maxBudget bounds the time a sync gives its webhooks (a week), so that
// adding budgets never overflows.
const maxBudget = 7 * 24 * time.Hour

// statusWriteTimeout bounds the status write of a step, which runs on a
// context of its own (see sync).
const statusWriteTimeout = 30 * time.Second

// syncTimeout bounds one sync of cd: maxSyncTime, or more when the canary's
// webhooks may take longer, so that a hook with a 10-minute timeout is not
// cut short by the cap.
//
// Unlike a fixed cap, which turned long hooks into failures that had never
// been answered.
func (c *Controller) syncTimeout(cd *flaggerv1.Canary) time.Duration {
	var hooks time.Duration
	if a := cd.GetAnalysis(); a != nil && c.cfg.Plugins.Webhooks != nil {
		for _, h := range a.Webhooks {
			// Saturating: Budget may be near the largest Duration.
			hooks = min(hooks+min(c.cfg.Plugins.Webhooks.Budget(h), maxBudget), maxBudget)
		}
	}
	return max(maxSyncTime, hooks+time.Minute)
}

// reasonInvalidSpec is the Promoted condition's reason while the spec
// cannot work; the next valid tick recomputes the condition from the phase.
const reasonInvalidSpec = "InvalidSpec"

// invalid reports a spec that cannot work (a permanent error, see
// syncerr): a Warning event and the Promoted condition say which field is
// wrong, and the canary waits for a change of its spec instead of being
// retried. Nothing was changed in the cluster.
func (c *Controller) invalid(ctx context.Context, key cache.ObjectName, cd *flaggerv1.Canary, log *logrus.Entry, err error) error {
	c.recordEvent(ctx, cd, log, analysis.Event{Type: corev1.EventTypeWarning, Reason: analysis.EventReason, Message: err.Error()})
	c.schedule.forget(key)
	status := *cd.Status.DeepCopy()
	status.ObservedGeneration = cd.Generation
	analysis.SetPromoted(&status, corev1.ConditionFalse, reasonInvalidSpec, err.Error(), metav1.NewTime(c.clock.Now()))
	if werr := c.writeStatus(ctx, cd, status); werr != nil {
		return werr
	}
	return syncerr.Permanent(err)
}

// writeStatus writes the status only when it differs from the cached one.
// It replaces the whole status with a JSON patch rather than an update: no
// resourceVersion precondition, so a user editing the spec meanwhile does
// not make the step's status write fail after its route was already moved.
// The controller is the status' only writer.
func (c *Controller) writeStatus(ctx context.Context, cd *flaggerv1.Canary, status flaggerv1.CanaryStatus) error {
	if equality.Semantic.DeepEqual(cd.Status, status) {
		return nil
	}
	patch, err := json.Marshal([]map[string]any{{"op": "add", "path": "/status", "value": status}})
	if err != nil {
		return err
	}
	written, err := c.cfg.FlaggerClient.FlaggerV1beta1().Canaries(cd.Namespace).Patch(ctx, cd.Name,
		types.JSONPatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	c.expected.expect(cache.ObjectName{Namespace: cd.Namespace, Name: cd.Name}, written, c.clock.Now())
	return nil
}

// recordEvent records a Kubernetes event, logs it, and posts it to the
// event webhooks.
func (c *Controller) recordEvent(ctx context.Context, cd *flaggerv1.Canary, log *logrus.Entry, event analysis.Event) {
	typ := eventType(event.Type)
	if typ == corev1.EventTypeWarning {
		log.Warn(event.Message)
	} else {
		log.Info(event.Message)
	}
	c.cfg.Recorder.Event(cd, typ, analysis.EventReason, event.Message)
	for _, hook := range webhook.EventHooks(cd, c.cfg.Plugins.EventWebhook) {
		payload := webhook.NewEventPayload(cd, hook, event.Message, typ, c.clock.Now())
		if err := c.cfg.Plugins.Webhooks.Call(ctx, hook, payload); err != nil {
			log.WithError(err).WithField("webhook", hook.Name).Warn("Event webhook failed")
			c.metrics.observeWebhookError(string(flaggerv1.EventHook))
		}
	}
}

// sendAlert delivers an alert to the canary's alert providers (or the
// global ones). A failed delivery is logged and counted, never retried in
// the sync: the analysis must not wait for a chat service.
func (c *Controller) sendAlert(ctx context.Context, cd *flaggerv1.Canary, log *logrus.Entry, alert analysis.Alert) {
	if err := c.cfg.Plugins.Alerts.Send(ctx, cd, alert); err != nil {
		log.WithError(err).WithField("severity", alert.Severity).Warn("Alert delivery failed")
	}
}

// hasAction reports whether actions hold an action of type T.
func hasAction[T analysis.Action](actions []analysis.Action) bool {
	for _, a := range actions {
		if _, ok := a.(T); ok {
			return true
		}
	}
	return false
}

// renderTemplate brings the live route of a canary rendered from a
// template (spec.service.route.templateRef) up to date between two steps
// of a run, so that a template edited in Git reaches the live route at
// once, not at the next step. It is ReconcileRouting alone, which keeps the
// live weights: it never moves traffic. A failure is left to the next step,
// which reconciles the route first.
func (c *Controller) renderTemplate(ctx context.Context, cd *flaggerv1.Canary) {
	if router.RouteTemplate(cd) == "" || cd.DeletionTimestamp != nil {
		return
	}
	rt, err := c.routerFor(cd)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, statusWriteTimeout)
	defer cancel()
	if err := c.newApplier(cd, rt, nil, cd.Status).applyOne(ctx, analysis.ReconcileRouting{}); err != nil {
		canaryLog(c.log, cd.Namespace, cd.Name).WithError(err).Warn("route template: the live route waits for the next step")
	}
}
