package canary

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Deployment condition reasons set by the Deployment controller.
const (
	reasonProgressDeadlineExceeded   = "ProgressDeadlineExceeded"
	reasonMinimumReplicasUnavailable = "MinimumReplicasUnavailable"
)

// NotReadyError says that a Deployment has not finished rolling out. Match
// it with errors.As; any other error from a readiness check (e.g. the
// Deployment is missing) is an ordinary, retriable failure.
type NotReadyError struct {
	// Message is Flagger's text, e.g. "waiting for rollout to finish: 1 out
	// of 2 new replicas have been updated", with the workload's name in front.
	Message string
	// Stuck is set when the rollout is stuck past its progress deadline:
	// waiting longer cannot help, and the release should be rolled back.
	// Otherwise the check should simply be retried later.
	Stuck bool
	// Draining is set when the workload was scaled to zero and its
	// controller has not finished removing the pods. Scaling it back up
	// before then can report it ready on the ReplicaSet's stale status
	// while its pods are being deleted.
	Draining bool
}

// Error returns Message.
func (e *NotReadyError) Error() string { return e.Message }

// CheckRollout reports whether a Deployment has rolled out: nil when it has,
// else a *NotReadyError. readyThreshold is the percentage of updated
// replicas that must be available. The rollout is stuck (Stuck) when the
// Deployment's own progress deadline is exceeded, or when it has lacked its
// minimum available replicas for longer than deadline before now.
func CheckRollout(dep *appsv1.Deployment, readyThreshold int, deadline time.Duration, now time.Time) error {
	if dep.Generation > dep.Status.ObservedGeneration {
		return &NotReadyError{Message: "waiting for rollout to finish: observed deployment generation less than desired generation"}
	}
	stuck := false
	if progressing := deploymentCondition(dep, appsv1.DeploymentProgressing); progressing != nil {
		if progressing.Reason == reasonProgressDeadlineExceeded {
			return &NotReadyError{
				Message: fmt.Sprintf("deployment %q exceeded its progress deadline", dep.Name),
				Stuck:   true,
			}
		}
		available := deploymentCondition(dep, appsv1.DeploymentAvailable)
		if available != nil && available.Status == corev1.ConditionFalse &&
			available.Reason == reasonMinimumReplicasUnavailable && !available.LastUpdateTime.IsZero() {
			stuck = available.LastUpdateTime.Add(deadline).Before(now)
		}
	}
	st := dep.Status
	// Integer math: Flagger's float32 product can land just under a whole number.
	thresholdReplicas := int32(int64(st.UpdatedReplicas) * int64(readyThreshold) / 100)
	switch {
	case dep.Spec.Replicas != nil && st.UpdatedReplicas < *dep.Spec.Replicas:
		return &NotReadyError{Stuck: stuck, Message: fmt.Sprintf(
			"waiting for rollout to finish: %d out of %d new replicas have been updated", st.UpdatedReplicas, *dep.Spec.Replicas)}
	case st.Replicas > st.UpdatedReplicas:
		return &NotReadyError{Stuck: stuck, Message: fmt.Sprintf(
			"waiting for rollout to finish: %d old replicas are pending termination", st.Replicas-st.UpdatedReplicas)}
	case st.AvailableReplicas < thresholdReplicas:
		return &NotReadyError{Stuck: stuck, Message: fmt.Sprintf(
			"waiting for rollout to finish: %d of %d (readyThreshold %d%%) updated replicas are available",
			st.AvailableReplicas, thresholdReplicas, readyThreshold)}
	}
	return nil
}

func deploymentCondition(dep *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range dep.Status.Conditions {
		if dep.Status.Conditions[i].Type == t {
			return &dep.Status.Conditions[i]
		}
	}
	return nil
}

// IsPrimaryReady checks the primary's rollout by the rules of its kind
// (see deploymentKind.primaryReady and daemonSetKind.primaryReady).
func (c *Deployments) IsPrimaryReady(ctx context.Context, cd *flaggerv1.Canary) error {
	k, err := c.kindOf(cd)
	if err != nil {
		return err
	}
	primary, err := k.get(cd.Namespace, PrimaryName(cd))
	if err != nil {
		return err
	}
	return k.primaryReady(cd, primary, c.clock.Now())
}

// IsCanaryReady checks the target's rollout by the rules of its kind.
func (c *Deployments) IsCanaryReady(ctx context.Context, cd *flaggerv1.Canary) error {
	k, err := c.kindOf(cd)
	if err != nil {
		return err
	}
	target, err := k.get(cd.Namespace, cd.Spec.TargetRef.Name)
	if err != nil {
		return err
	}
	return k.canaryReady(cd, target, c.clock.Now())
}

// wrapNotReady prefixes the message of the *NotReadyError that CheckRollout
// returned.
func wrapNotReady(err error, prefix string) error {
	var nre *NotReadyError
	if !errors.As(err, &nre) {
		return err
	}
	return &NotReadyError{Message: prefix + nre.Message, Stuck: nre.Stuck, Draining: nre.Draining}
}

// readyThreshold returns the analysis field chosen by get, 100 when unset.
func readyThreshold(cd *flaggerv1.Canary, get func(*flaggerv1.CanaryAnalysis) *int) int {
	if a := cd.GetAnalysis(); a != nil {
		if t := get(a); t != nil {
			return *t
		}
	}
	return flaggerv1.DefaultReadyThreshold
}
