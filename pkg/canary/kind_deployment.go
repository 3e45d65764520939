package canary

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// deploymentKind releases Deployments: the primary is a Deployment, scaling
// sets spec.replicas, and readiness follows the Deployment's conditions.
type deploymentKind struct {
	kube        kubernetes.Interface
	deployments appslisters.DeploymentLister
	// autoscalerMin is the minimum of the target's autoscaler (HPA or KEDA
	// ScaledObject), zero without one: a run starts the target there.
	autoscalerMin func(*flaggerv1.Canary) (int32, error)
}

var _ workloadKind = deploymentKind{}

func (deploymentKind) kindName() string { return "deployment" }

func (k deploymentKind) get(namespace, name string) (workload, error) {
	dep, err := k.deployments.Deployments(namespace).Get(name)
	if err != nil {
		return workload{}, getError("deployment", namespace, name, err)
	}
	return deploymentWorkload(dep), nil
}

func deploymentWorkload(dep *appsv1.Deployment) workload {
	return workload{listedObject: dep, template: &dep.Spec.Template, selector: dep.Spec.Selector}
}

func (k deploymentKind) list(namespace string) ([]listedObject, error) {
	deps, err := k.deployments.Deployments(namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	out := make([]listedObject, len(deps))
	for i, d := range deps {
		out[i] = d
	}
	return out, nil
}

func (deploymentKind) validate(workload) error { return nil }

func (deploymentKind) newPrimary(cd *flaggerv1.Canary, target workload, opts PrimaryOptions) listedObject {
	return NewPrimaryDeployment(cd, target.listedObject.(*appsv1.Deployment), opts)
}

func (deploymentKind) promote(cd *flaggerv1.Canary, target, primary workload, opts PrimaryOptions) listedObject {
	return PromotePrimary(cd, target.listedObject.(*appsv1.Deployment), primary.listedObject.(*appsv1.Deployment), opts)
}

func (k deploymentKind) create(ctx context.Context, obj listedObject) error {
	_, err := k.kube.AppsV1().Deployments(obj.GetNamespace()).Create(ctx, obj.(*appsv1.Deployment), metav1.CreateOptions{})
	return err
}

func (k deploymentKind) update(ctx context.Context, obj listedObject) error {
	_, err := k.kube.AppsV1().Deployments(obj.GetNamespace()).Update(ctx, obj.(*appsv1.Deployment), metav1.UpdateOptions{})
	return err
}

func (k deploymentKind) scaleToZero(ctx context.Context, _ *flaggerv1.Canary, target workload) error {
	return k.scale(ctx, target.listedObject.(*appsv1.Deployment), 0)
}

func (k deploymentKind) scaleFromZero(ctx context.Context, cd *flaggerv1.Canary, target workload) error {
	return k.scaleBy(ctx, cd, target, ScaleFromZeroReplicas)
}

func (k deploymentKind) finalize(ctx context.Context, cd *flaggerv1.Canary, target workload) error {
	return k.scaleBy(ctx, cd, target, FinalizeReplicas)
}

// primaryReady checks the primary's rollout against primaryReadyThreshold
// and the canary's progress deadline. A primary scaled to zero is not
// ready: there is nothing to compare the canary with.
func (k deploymentKind) primaryReady(cd *flaggerv1.Canary, w workload, now time.Time) error {
	primary := w.listedObject.(*appsv1.Deployment)
	threshold := readyThreshold(cd, func(a *flaggerv1.CanaryAnalysis) *int { return a.PrimaryReadyThreshold })
	if err := CheckRollout(primary, threshold, cd.GetProgressDeadline(), now); err != nil {
		return wrapNotReady(err, fmt.Sprintf("%s.%s not ready: ", primary.Name, primary.Namespace))
	}
	// Unlike Flagger, which compared pointers here and so never halted.
	if primary.Spec.Replicas != nil && *primary.Spec.Replicas == 0 {
		return &NotReadyError{Message: fmt.Sprintf(
			"halt %s.%s advancement: primary deployment is scaled to zero", cd.Name, cd.Namespace)}
	}
	return nil
}

// canaryReady checks the target's rollout against canaryReadyThreshold and
// the canary's progress deadline.
func (k deploymentKind) canaryReady(cd *flaggerv1.Canary, w workload, now time.Time) error {
	target := w.listedObject.(*appsv1.Deployment)
	if ptr.Deref(target.Spec.Replicas, 1) == 0 &&
		(target.Status.Replicas > 0 || target.Generation > target.Status.ObservedGeneration) {
		return &NotReadyError{Draining: true, Message: fmt.Sprintf(
			"canary deployment %s.%s not ready: scaling down to zero, %d replicas left",
			target.Name, target.Namespace, target.Status.Replicas)}
	}
	threshold := readyThreshold(cd, func(a *flaggerv1.CanaryAnalysis) *int { return a.CanaryReadyThreshold })
	if err := CheckRollout(target, threshold, cd.GetProgressDeadline(), now); err != nil {
		return wrapNotReady(err, fmt.Sprintf("canary deployment %s.%s not ready: ", target.Name, target.Namespace))
	}
	// A Deployment at zero replicas has trivially rolled out. Every caller
	// asks after scaling the target up, and the informer cache may not have
	// seen that write yet: a revertOnDeletion canary then handed the
	// traffic back to a target with no pods, and an analysis could start on
	// a canary without pods.
	if target.Spec.Replicas != nil && *target.Spec.Replicas == 0 {
		return &NotReadyError{Message: fmt.Sprintf(
			"canary deployment %s.%s not ready: scaled to zero", target.Name, target.Namespace)}
	}
	return nil
}
