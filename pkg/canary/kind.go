package canary

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// Target kinds Serin releases (spec.targetRef.kind; empty means Deployment).
const (
	DeploymentKind = "Deployment"
	DaemonSetKind  = "DaemonSet"
)

// workload is a target or a primary of either kind as the kind-independent
// paths (primary bootstrap, promotion, revisions, configs, owners) see it.
// Object is the *appsv1.Deployment or *appsv1.DaemonSet itself, read from a
// lister: never changed.
type workload struct {
	listedObject
	// template is the pod template a revision is made of: the object's own,
	// but for what Serin writes into it itself (a DaemonSet's scale-to-zero
	// node selector), in which case it is a copy.
	template *corev1.PodTemplateSpec
	// selector is the object's spec.selector.
	selector *metav1.LabelSelector
}

// workloadKind is what differs between the kinds of target: where their
// objects are read and written, how a primary is built from a target, how
// a target is scaled to zero and back, and when a rollout is done. Every
// other step of a release is written once, over workload.
type workloadKind interface {
	// kindName is the kind's name in messages: "deployment", "daemonset".
	kindName() string
	// get reads a workload from the lister; NotFound when it is missing.
	get(namespace, name string) (workload, error)
	// list returns the namespace's workloads of this kind.
	list(namespace string) ([]listedObject, error)
	// validate returns a permanent error, naming the field to fix, for a
	// target this kind cannot release.
	validate(target workload) error
	// newPrimary builds the primary to create for target.
	newPrimary(cd *flaggerv1.Canary, target workload, opts PrimaryOptions) listedObject
	// promote returns a copy of primary updated from target.
	promote(cd *flaggerv1.Canary, target, primary workload, opts PrimaryOptions) listedObject
	create(ctx context.Context, obj listedObject) error
	update(ctx context.Context, obj listedObject) error
	// scaleToZero takes the target's pods away; scaleFromZero brings them
	// back for a run, finalize when the canary is deleted.
	scaleToZero(ctx context.Context, cd *flaggerv1.Canary, target workload) error
	scaleFromZero(ctx context.Context, cd *flaggerv1.Canary, target workload) error
	finalize(ctx context.Context, cd *flaggerv1.Canary, target workload) error
	// primaryReady and canaryReady are nil once the workload has rolled
	// out, else a *NotReadyError (see IsPrimaryReady and IsCanaryReady).
	primaryReady(cd *flaggerv1.Canary, primary workload, now time.Time) error
	canaryReady(cd *flaggerv1.Canary, target workload, now time.Time) error
}

// ErrUnsupportedTarget is returned for a targetRef kind Serin does not
// release, or a DaemonSet target with a setting a DaemonSet cannot have.
var ErrUnsupportedTarget = errors.New("unsupported targetRef kind")

// kindOf returns the kind of the canary's target, or a permanent error
// naming the field to fix.
func (c *Deployments) kindOf(cd *flaggerv1.Canary) (workloadKind, error) {
	switch kind := cd.Spec.TargetRef.Kind; kind {
	case "", DeploymentKind:
		return c.deploymentKind, nil
	case DaemonSetKind:
		if c.daemonSetKind == nil {
			return nil, syncerr.Permanent(fmt.Errorf("spec.targetRef.kind: %w: DaemonSet targets are not enabled in this operator",
				ErrUnsupportedTarget))
		}
		// Unlike Flagger, which does not check it: a DaemonSet runs one
		// pod per node, there is nothing to autoscale (it has no scale
		// subresource for an HPA to drive). The judge's baseline (Serin's own) is a scaled copy
		// of the primary, which a DaemonSet cannot be.
		if cd.Spec.AutoscalerRef != nil {
			return nil, syncerr.Permanent(fmt.Errorf("spec.autoscalerRef: %w: a DaemonSet target cannot have an autoscaler",
				ErrUnsupportedTarget))
		}
		if BaselineEnabled(cd) {
			return nil, syncerr.Permanent(fmt.Errorf("spec.analysis.judge.baseline: %w: a DaemonSet target cannot have a baseline",
				ErrUnsupportedTarget))
		}
		return c.daemonSetKind, nil
	default:
		return nil, syncerr.Permanent(fmt.Errorf("spec.targetRef.kind: %w: %s is not supported by Serin, only Deployment and DaemonSet",
			ErrUnsupportedTarget, kind))
	}
}

// kinds returns the kinds this controller manages.
func (c *Deployments) kinds() []workloadKind {
	if c.daemonSetKind == nil {
		return []workloadKind{c.deploymentKind}
	}
	return []workloadKind{c.deploymentKind, c.daemonSetKind}
}

// targetWorkload returns the canary's target, its kind and its selector
// label, once the kind accepts it.
func (c *Deployments) targetWorkload(cd *flaggerv1.Canary) (workloadKind, workload, Selector, error) {
	k, err := c.kindOf(cd)
	if err != nil {
		return nil, workload{}, Selector{}, err
	}
	target, err := k.get(cd.Namespace, cd.Spec.TargetRef.Name)
	if err != nil {
		return nil, workload{}, Selector{}, err
	}
	if err := k.validate(target); err != nil {
		return nil, workload{}, Selector{}, err
	}
	sel, err := findSelector(k.kindName(), target, target.selector, c.selectorLabels)
	if err != nil {
		return nil, workload{}, Selector{}, err
	}
	return k, target, sel, nil
}

// getError wraps a lister's error as Flagger words it.
func getError(kind, namespace, name string, err error) error {
	return fmt.Errorf("%s %s.%s get query error: %w", kind, name, namespace, err)
}
