package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/history"
)

// appendHistory adds one tick of the canary's current run to its history
// ConfigMap (see pkg/history), creating it owned by the Canary.
//
// It runs after the tick's status write, and it is the only write of a
// tick that may fail without failing the tick: the history is what
// kubectl serin explain shows, not what the release is decided from
// (status.checks keeps the latest of each check), and retrying a tick
// for it would run its checks and move its traffic again. A failed or
// lost append loses that tick's entry, which the log says.
func (c *Controller) appendHistory(ctx context.Context, cd *flaggerv1.Canary, status flaggerv1.CanaryStatus,
	checks []flaggerv1.CheckResult, events []analysis.Event) error {
	if status.Run == 0 || (len(checks) == 0 && len(events) == 0) {
		return nil
	}
	e := history.Entry{
		Time: c.clock.Now().UTC(), Phase: status.Phase, Weight: status.CanaryWeight,
		Iterations: status.Iterations, FailedChecks: status.FailedChecks,
		Revision: status.LastAppliedSpec, Checks: checks,
	}
	for _, ev := range events {
		e.Events = append(e.Events, history.Event{Type: ev.Type, Reason: ev.Reason, Message: ev.Message})
	}
	client := c.cfg.KubeClient.CoreV1().ConfigMaps(cd.Namespace)
	name := history.Name(cd.Name)
	// One retry: a conflict means another write came between the read and
	// the update (an operator that lost the lease, a user's edit).
	var err error
	for range 2 {
		var cm *corev1.ConfigMap
		cm, err = client.Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: cd.Namespace,
				Labels:          map[string]string{history.Label: "true"},
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cd, flaggerv1.SchemeGroupVersion.WithKind("Canary"))},
			}}
		case err != nil:
			return err
		case !metav1.IsControlledBy(cm, cd):
			return fmt.Errorf("ConfigMap %s/%s exists and is not the history of this canary; it is left alone", cd.Namespace, name)
		}
		data, aerr := history.Append(cm.Data, status.Run, e, history.DefaultLimits)
		if aerr != nil {
			return aerr
		}
		cm.Data = data
		if cm.ResourceVersion == "" {
			_, err = client.Create(ctx, cm, metav1.CreateOptions{})
		} else {
			_, err = client.Update(ctx, cm, metav1.UpdateOptions{})
		}
		if !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return err
}
