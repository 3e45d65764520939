package analysis

import (
	"fmt"
	"hash/fnv"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// conditionPromotionFailed is the Promoted message after failPromotion.
const conditionPromotionFailed = "Canary promotion failed, primary not ready; all traffic routed to the canary."

// PromotedCondition returns the status and message of the Promoted condition
// for a phase (its reason is the phase), as Flagger sets them; kind is the
// target's kind.
//
// Unlike Flagger, Terminating and Terminated get their own message rather
// than falling back to the initialization one.
func PromotedCondition(phase v1beta1.CanaryPhase, kind string) (corev1.ConditionStatus, string) {
	switch phase {
	case v1beta1.CanaryPhaseInitialized:
		return corev1.ConditionTrue, kind + " initialization completed."
	case v1beta1.CanaryPhaseWaiting, v1beta1.CanaryPhaseWaitingPromotion:
		return corev1.ConditionUnknown, "Waiting for approval."
	case v1beta1.CanaryPhaseProgressing:
		return corev1.ConditionUnknown, "New revision detected, progressing canary analysis."
	case v1beta1.CanaryPhasePromoting:
		return corev1.ConditionUnknown, "Canary analysis completed, starting primary rolling update."
	case v1beta1.CanaryPhaseFinalising:
		return corev1.ConditionUnknown, "Canary analysis completed, routing all traffic to primary."
	case v1beta1.CanaryPhaseSucceeded:
		return corev1.ConditionTrue, "Canary analysis completed successfully, promotion finished."
	case v1beta1.CanaryPhaseFailed:
		return corev1.ConditionFalse, fmt.Sprintf("Canary analysis failed, %s scaled to zero.", kind)
	case v1beta1.CanaryPhaseTerminating:
		return corev1.ConditionUnknown, "Canary deleted, restoring the " + kind + "."
	case v1beta1.CanaryPhaseTerminated:
		return corev1.ConditionUnknown, "Canary deleted, " + kind + " restored."
	default:
		return corev1.ConditionUnknown, fmt.Sprintf("New %s detected, starting initialization.", kind)
	}
}

// stampStatus sets the Promoted condition for the phase and, when anything
// but observedGeneration changed, lastTransitionTime. Flagger bumps
// lastTransitionTime on every status write; here a tick that changes nothing
// writes nothing (observedGeneration aside), so idle ticks leave it alone.
func (t *tick) stampStatus() {
	now := metav1.NewTime(t.in.Now).Rfc3339Copy()
	if t.st.Phase != "" {
		status, msg := PromotedCondition(t.st.Phase, t.cd.Spec.TargetRef.Kind)
		if t.conditionMessage != "" {
			msg = t.conditionMessage
		}
		// A phase keeps the message it entered with: a failed promotion
		// says so until the next run, not only on its own tick.
		if c := promotedCondition(t.st); c != nil && c.Status == status && c.Reason == string(t.st.Phase) {
			msg = c.Message
		}
		SetPromoted(&t.st, status, string(t.st.Phase), msg, now)
	}
	if statusChanged(t.cd.Status, t.st) {
		t.st.LastTransitionTime = now
	}
}

// promotedCondition returns the Promoted condition of st, nil when it has none.
func promotedCondition(st v1beta1.CanaryStatus) *v1beta1.CanaryCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == v1beta1.PromotedType {
			return &st.Conditions[i]
		}
	}
	return nil
}

// SetPromoted sets the Promoted condition of st, the only condition a
// Canary has, replacing it only when its status, reason or message
// changes; lastTransitionTime moves only when the status does. The state
// machine and the controller's report of an invalid spec both set it here.
func SetPromoted(st *v1beta1.CanaryStatus, status corev1.ConditionStatus, reason, msg string, now metav1.Time) {
	next := v1beta1.CanaryCondition{
		Type:               v1beta1.PromotedType,
		Status:             status,
		LastUpdateTime:     now,
		LastTransitionTime: now,
		Reason:             reason,
		Message:            msg,
	}
	for i, c := range st.Conditions {
		if c.Type != v1beta1.PromotedType {
			continue
		}
		if c.Status == status && c.Reason == reason && c.Message == msg {
			return
		}
		if c.Status == status {
			next.LastTransitionTime = c.LastTransitionTime
		}
		st.Conditions[i] = next
		return
	}
	st.Conditions = append(st.Conditions, next)
}

// statusChanged compares two statuses, ignoring the fields stamped on write.
func statusChanged(before, after v1beta1.CanaryStatus) bool {
	before.LastTransitionTime, after.LastTransitionTime = metav1.Time{}, metav1.Time{}
	before.ObservedGeneration, after.ObservedGeneration = 0, 0
	return !reflect.DeepEqual(before, after)
}

// syncSessionCookies keeps the session affinity cookies of a weighted run:
// a cookie while the canary takes traffic, moved to the previous cookie (which
// the route expires) when the canary's weight drops to 0.
//
// Unlike Flagger, where the router fills them in with random letters, the
// cookie values are derived from the revision and the time of the stored
// status' last transition, so that Step stays a pure function and a step
// retried after a failed status write (or by another replica) sets the same
// cookie on the route; they still differ from run to run.
func (t *tick) syncSessionCookies() {
	sa := t.an.SessionAffinity
	if sa == nil || StrategyOf(t.an) != StrategyCanary {
		return
	}
	if t.st.CanaryWeight > 0 {
		seed := fmt.Sprintf("%s/%s/%s/%d", t.cd.Namespace, t.cd.Name, t.st.LastAppliedSpec, t.cd.Status.LastTransitionTime.UnixNano())
		if t.st.SessionAffinityCookie == "" {
			t.st.SessionAffinityCookie = sa.CookieName + "=" + cookieValue(seed+"/canary")
		}
		if sa.PrimaryCookieName != "" && t.st.PrimarySessionAffinityCookie == "" {
			t.st.PrimarySessionAffinityCookie = sa.PrimaryCookieName + "=" + cookieValue(seed+"/primary")
		}
		return
	}
	if t.st.SessionAffinityCookie != "" {
		t.st.PreviousSessionAffinityCookie = t.st.SessionAffinityCookie
		t.st.SessionAffinityCookie = ""
		t.st.PrimarySessionAffinityCookie = ""
	}
}

// cookieValue returns ten letters derived from seed, the shape of Flagger's
// random cookie values.
func cookieValue(seed string) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	h := fnv.New64a()
	_, _ = h.Write([]byte(seed))
	n := h.Sum64()
	value := make([]byte, 10)
	for i := range value {
		value[i] = letters[n%uint64(len(letters))]
		n /= uint64(len(letters))
	}
	return string(value)
}
