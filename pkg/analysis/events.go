package analysis

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Event texts, word for word Flagger's (flagger-behaviour.md §2.11), but for
// msgResumed, msgHandedOver, msgNoSteps and msgRouteDrift, which Flagger does not have. The first
// %s of each is <name>.<namespace>: the canary's name or, where Flagger uses
// it, the target's (see the callers).
const (
	msgInitialized          = "Initialization done! %s"
	msgScalingUp            = "New revision detected! Scaling up %s"
	msgRestarting           = "New revision detected! Restarting analysis for %s"
	msgStarting             = "Starting canary analysis for %s"
	msgAdvanceWeight        = "Advance %s canary weight %d"
	msgAdvanceIteration     = "Advance %s canary iteration %d/%d"
	msgAdvancePrimary       = "Advance %s primary weight %d"
	msgCopying              = "Copying %s template spec to %s"
	msgAllToPrimary         = "Routing all traffic to primary"
	msgAllToCanary          = "Routing all traffic to canary"
	msgStopMirroring        = "Stop traffic mirroring and route all traffic to canary"
	msgSucceeded            = "Promotion completed! Scaling down %s"
	msgSkipped              = "Promotion completed! Canary analysis was skipped for %s"
	msgRollbackThreshold    = "Rolling back %s failed checks threshold reached %d"
	msgRollbackDeadline     = "Rolling back %s progress deadline exceeded %s"
	msgRollbackManual       = "Rolling back %s manual webhook invoked"
	msgFailed               = "Canary failed! Scaling down %s"
	msgPromotionFailed      = "Promotion of %s failed, primary not ready: %s"
	msgWaitRollout          = "Halt %s advancement waiting for approval %s"
	msgWaitPromotion        = "Halt %s advancement waiting for promotion approval %s"
	msgWaitTraffic          = "Halt %s advancement waiting for traffic increase approval %s"
	msgRolloutPassed        = "Confirm-rollout check %s passed"
	msgPromotionPassed      = "Confirm-promotion check %s passed"
	msgTrafficPassed        = "Confirm-traffic-increase check %s passed"
	msgPreRolloutPassed     = "Pre-rollout check %s passed"
	msgPreRolloutFailed     = "Halt %s advancement pre-rollout check %s failed %v"
	msgRolloutHookFailed    = "Halt %s advancement external check %s failed %v"
	msgPostRolloutPassed    = "Post-rollout check %s passed"
	msgPostRolloutFailed    = "Post-rollout hook %s failed %v"
	msgRollbackHookPassed   = "Rollback check %s passed"
	msgRollbackHookIdle     = "Rollback hook %s not signaling a rollback"
	msgSuspended            = "skipping canary run as object is suspended"
	msgResumed              = "resuming canary run as object is no longer suspended"
	msgTerminating          = "Terminating canary %s"
	msgTerminated           = "Terminated canary %s"
	msgHandedOver           = "Canary %s deleted without revertOnDeletion: its primary and routing are handed over to %s %s"
	msgProvidersAvailable   = "all the metrics providers are available!"
	msgProvidersUnavailable = "Error checking metric providers: %v"
	msgTargetMissing        = "%s %s not found"
	msgRouteDrift           = "HTTPRoute %s weights changed by another writer to %d/%d: restoring %d/%d"
	msgNoSteps              = "Halt %s advancement: spec.analysis.stepWeight or spec.analysis.stepWeights must give the canary a weight above 0"
)

// Alert texts and their severities (flagger-behaviour.md §6.1).
const (
	alertInitialized     = "New %s detected, initialization completed."
	alertNewRevision     = "New revision detected, progressing canary analysis."
	alertWaitRollout     = "Canary is waiting for approval."
	alertWaitTraffic     = "Canary traffic increase is waiting for approval."
	alertWaitPromotion   = "Canary promotion is waiting for approval."
	alertRollbackManual  = "Rolling back manual webhook invoked"
	alertThreshold       = "Failed checks threshold reached %d"
	alertDeadline        = "Progress deadline exceeded %s"
	alertPromotionFailed = "Promotion failed, primary not ready: %s"
	alertSucceeded       = "Canary analysis completed successfully, promotion finished."
	alertSkipped         = "Canary analysis was skipped, promotion finished."
)

func newEvent(eventType, format string, args ...any) Event {
	return Event{Type: eventType, Reason: EventReason, Message: fmt.Sprintf(format, args...)}
}

// normal records a Normal event.
func (t *tick) normal(format string, args ...any) {
	t.d.Events = append(t.d.Events, newEvent(corev1.EventTypeNormal, format, args...))
}

// warning records a Warning event.
func (t *tick) warning(format string, args ...any) {
	t.d.Events = append(t.d.Events, newEvent(corev1.EventTypeWarning, format, args...))
}

// alert queues an alert without metadata.
func (t *tick) alert(severity v1beta1.AlertSeverity, format string, args ...any) {
	t.d.Alerts = append(t.d.Alerts, Alert{Severity: severity, Message: fmt.Sprintf(format, args...)})
}

// alertWithFields queues an alert carrying the canary's metadata.
func (t *tick) alertWithFields(severity v1beta1.AlertSeverity, msg string) {
	t.d.Alerts = append(t.d.Alerts, Alert{Severity: severity, Message: msg, Fields: alertFields(t.cd)})
}

// canaryID is <canary name>.<namespace>, the subject of most events.
func canaryID(c *v1beta1.Canary) string {
	return c.Name + "." + c.Namespace
}

// targetID is <target name>.<namespace>, which Flagger uses in the events
// about the workload (scaling, copying, starting, restarting, completing).
func targetID(c *v1beta1.Canary) string {
	return c.Spec.TargetRef.Name + "." + c.Namespace
}

// routeID is <route name>.<namespace>: the route is named after the apex
// Service.
func routeID(c *v1beta1.Canary) string {
	apex, _, _ := c.GetServiceNames()
	return apex + "." + c.Namespace
}

// primaryID is <target name>-primary.<namespace>.
func primaryID(c *v1beta1.Canary) string {
	return c.Spec.TargetRef.Name + "-primary." + c.Namespace
}

// alertFields are the metadata of the initialization and new-revision alerts.
func alertFields(c *v1beta1.Canary) []AlertField {
	return []AlertField{
		{Name: "Target", Value: c.Spec.TargetRef.Kind + "/" + targetID(c)},
		{Name: "Failed checks threshold", Value: strconv.Itoa(c.GetAnalysisThreshold())},
		{Name: "Progress deadline", Value: fmt.Sprintf("%.0fs", c.GetProgressDeadline().Seconds())},
		{Name: "Traffic routing", Value: routingSummary(c)},
	}
}

// routingSummary describes the traffic strategy for alerts.
//
// Unlike Flagger, it describes the strategy that actually runs (Flagger
// prints "Weight step" for a blue/green canary that also sets stepWeight) and
// prints the effective max weight instead of the raw maxWeight field, which
// is 0 when unset.
func routingSummary(c *v1beta1.Canary) string {
	a := c.GetAnalysis()
	switch StrategyOf(a) {
	case StrategyABTesting:
		return "A/B Testing"
	case StrategyBlueGreen:
		return "Blue/Green"
	}
	if a != nil && a.StepWeight <= 0 && len(a.StepWeights) > 0 {
		rungs := make([]string, len(a.StepWeights))
		for i, w := range a.StepWeights {
			rungs[i] = strconv.Itoa(w)
		}
		return fmt.Sprintf("Weight steps: %s max: %d", strings.Join(rungs, ","), c.GetMaxWeight())
	}
	step := 0
	if a != nil {
		step = a.StepWeight
	}
	return fmt.Sprintf("Weight step: %d max: %d", step, c.GetMaxWeight())
}

// PostRolloutEvents applies a RunPostRolloutHooks action: it calls the
// canary's post-rollout webhooks in spec order with phase, stops at the first
// failure, and returns the events to record. A failure changes nothing else.
func PostRolloutEvents(ctx context.Context, c *v1beta1.Canary, checks Checks, phase v1beta1.CanaryPhase) []Event {
	a := c.GetAnalysis()
	if a == nil {
		return nil
	}
	var events []Event
	for _, h := range a.WebhooksOf(v1beta1.PostRolloutHook) {
		if err := checks.CallWebhook(ctx, h, phase); err != nil {
			return append(events, newEvent(corev1.EventTypeWarning, msgPostRolloutFailed, h.Name, err))
		}
		events = append(events, newEvent(corev1.EventTypeNormal, msgPostRolloutPassed, h.Name))
	}
	return events
}
