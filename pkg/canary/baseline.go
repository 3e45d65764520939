package canary

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Baselines manages the baseline of canaries whose analysis sets
// judge.baseline: the <target>-baseline Deployment, a fresh copy of the
// primary (the version in production) that serves as many requests as the
// canary during a run, so that the judge compares like with like, and the
// <svc>-baseline Service that the route's baseline backend points at.
//
// # When the caller must remove the baseline
//
// A baseline exists for one run and is never left behind. The rule for the
// caller is one line: on every tick of a canary, a phase that routes traffic
// to the baseline (an analysis run of a canary with judge.baseline)
// calls EnsureBaseline; every other tick sets the route's baseline weight to
// zero, then calls RemoveBaseline. That covers each way a run ends:
//
//   - promotion: once the analysis has passed, before or with the write that
//     moves the baseline's weight back to the primary (Promoting,
//     Finalising, and WaitingPromotion, whose analysis is over);
//   - rollback and a failed promotion (Failed);
//   - the idle phases, Initialized, Succeeded and Failed, on every tick: that
//     is what removes a baseline whose removal a crash interrupted, and what
//     it costs there is two lister reads, no API call, once it is gone;
//   - judge.baseline turned off, or spec.analysis removed, mid-run;
//   - a skipped analysis (skipAnalysis) and a suspended canary, if it ticks;
//   - the deletion of the Canary: in the finalizer, before the owners are
//     rewritten (a hand-over to the target would otherwise give it the
//     baseline to keep). Without a finalizer, garbage collection removes
//     the baseline Deployment with the Canary, its only owner (the Service
//     stays with the route, see below).
//
// A new revision mid-run needs no removal: the next EnsureBaseline gives the
// baseline's pods the new run (BaselineRunAnnotation) and the Deployment
// replaces them, so that the new run starts on fresh pods too.
//
// The order matters for traffic: the route never sends weight to a
// baseline that EnsureBaseline has not reported ready, and the weight goes
// back to the primary before RemoveBaseline deletes the pods.
//
// # The Service outlives the runs
//
// The router keeps the baseline backend in the route, at weight 0, for as
// long as judge.baseline is set, so that a run's start and end change
// weights only. Its Service must exist all that time, or the route's
// references do not resolve. RemoveBaseline therefore keeps (and creates,
// and corrects) the Service while the route needs it (see keepsService),
// and deletes it otherwise; and the Service has the route's owners, so that
// it stays with a route that the target keeps serving after the Canary's
// deletion. A Service without pods costs nothing; the pods are what a
// baseline must not leave behind, and the Deployment's only owner is the
// Canary.
//
// # Crash safety
//
// Every write is one create, update or delete decided from the listers, and
// each method is idempotent: an interrupted call leaves a state from which
// the next call completes the work (a lister that lags behind a create sees
// AlreadyExists, one that lags behind a delete sees NotFound; both are
// taken as done). A Deployment or Service of the baseline's name that the
// Canary does not control is never changed or deleted.
type Baselines struct {
	d        *Deployments
	services corelisters.ServiceLister
}

// Baselines returns the baseline manager of c's canaries, reading Services
// with services (the router's lister) and everything else as c does.
func (c *Deployments) Baselines(services corelisters.ServiceLister) *Baselines {
	return &Baselines{d: c, services: services}
}

// ErrNotControlled is returned when an object has the baseline's name but
// is not controlled by the Canary: Serin leaves it alone, and the user has
// to rename or delete it.
var ErrNotControlled = errors.New("exists and is not controlled by the canary")

// EnsureBaseline creates the baseline Service and Deployment, or brings them
// to what the canary's current run needs (the primary's template, the
// target's replicas, the run's annotation), and reports the baseline's
// readiness as BaselineReady does: nil when the route may send it traffic,
// a *NotReadyError while it rolls out (Stuck past the progress deadline),
// any other error when a read or write failed. A call that wrote anything
// reports not ready: the listers have not seen the write yet. A stuck
// baseline (quota, a node shortage) will not serve: the compared metrics
// have no baseline to be judged against, which the state machine treats as
// it treats a stuck canary, or as an inconclusive judge, never as a pass.
func (b *Baselines) EnsureBaseline(ctx context.Context, cd *flaggerv1.Canary) error {
	target, sel, err := b.d.target(cd)
	if err != nil {
		return err
	}
	primarySvc, err := b.primaryService(cd)
	if err != nil {
		return err
	}
	svcWritten, err := b.ensureService(ctx, cd, NewBaselineService(cd, primarySvc, sel, targetOwner(target)))
	if err != nil {
		return err
	}
	primary, err := b.d.getDeployment(cd.Namespace, PrimaryName(cd))
	if err != nil {
		return err
	}
	desired := NewBaselineDeployment(cd, target, primary, sel, baselineRun(cd))
	hash, err := PodTemplateHash(&desired.Spec.Template)
	if err != nil {
		return err
	}
	desired.Annotations = map[string]string{BaselineTemplateAnnotation: hash}
	depWritten, err := b.ensureDeployment(ctx, cd, desired)
	if err != nil {
		return err
	}
	if svcWritten || depWritten {
		return &NotReadyError{Message: fmt.Sprintf("baseline deployment %s.%s not ready: just written",
			desired.Name, cd.Namespace)}
	}
	return b.BaselineReady(cd)
}

// BaselineReady reports whether the route may send traffic to the baseline:
// nil when its Service exists and its Deployment, started for the current
// run, has rolled out (canaryReadyThreshold, the canary's progress
// deadline); otherwise a *NotReadyError (a missing baseline is one too:
// EnsureBaseline has not run, or the listers lag), or the error of a
// lister read. It reads listers only.
func (b *Baselines) BaselineReady(cd *flaggerv1.Canary) error {
	name := BaselineName(cd)
	prefix := fmt.Sprintf("baseline deployment %s.%s not ready: ", name, cd.Namespace)
	dep, err := b.d.deployments.Deployments(cd.Namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return &NotReadyError{Message: prefix + "not created yet"}
	}
	if err != nil {
		return fmt.Errorf("deployment %s.%s get query error: %w", name, cd.Namespace, err)
	}
	if run := baselineRun(cd); dep.Spec.Template.Annotations[BaselineRunAnnotation] != run {
		return &NotReadyError{Message: prefix + "started for another run"}
	}
	threshold := readyThreshold(cd, func(a *flaggerv1.CanaryAnalysis) *int { return a.CanaryReadyThreshold })
	if err := CheckRollout(dep, threshold, cd.GetProgressDeadline(), b.d.clock.Now()); err != nil {
		return wrapNotReady(err, prefix)
	}
	if dep.Spec.Replicas != nil && *dep.Spec.Replicas == 0 {
		return &NotReadyError{Message: prefix + "scaled to zero"}
	}
	svcName := baselineServiceName(cd)
	if _, err := b.services.Services(cd.Namespace).Get(svcName); apierrors.IsNotFound(err) {
		return &NotReadyError{Message: fmt.Sprintf("baseline service %s.%s not created yet", svcName, cd.Namespace)}
	} else if err != nil {
		return fmt.Errorf("service %s.%s get error: %w", svcName, cd.Namespace, err)
	}
	return nil
}

// RemoveBaseline brings the baseline to its state between runs: no
// Deployment, and the Service kept while the route refers to it
// (keepsService), deleted otherwise (see Baselines). It only
// deletes what the Canary controls, and writes nothing when the baseline is
// already in that state: the listers say so. A kept Service is created or
// corrected as EnsureBaseline does, once the target and the primary Service
// exist (before, there is nothing for it to copy, and nothing to route).
func (b *Baselines) RemoveBaseline(ctx context.Context, cd *flaggerv1.Canary) error {
	name := BaselineName(cd)
	dep, err := b.d.deployments.Deployments(cd.Namespace).Get(name)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("deployment %s.%s get query error: %w", name, cd.Namespace, err)
	case metav1.IsControlledBy(dep, cd):
		if err := b.deleteDeployment(ctx, dep); err != nil {
			return err
		}
	}
	if keepsService(cd) {
		return b.keepService(ctx, cd)
	}
	svcName := baselineServiceName(cd)
	svc, err := b.services.Services(cd.Namespace).Get(svcName)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("service %s.%s get error: %w", svcName, cd.Namespace, err)
	case !metav1.IsControlledBy(svc, cd):
		return nil
	}
	err = b.d.kube.CoreV1().Services(cd.Namespace).Delete(ctx, svcName, deleteOptions(svc.UID))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting service %s.%s failed: %w", svcName, cd.Namespace, err)
	}
	return nil
}

// keepsService reports whether the route refers to the baseline Service
// between runs: while judge.baseline is set (the router's rule), unless the
// Canary is being deleted with revertOnDeletion, whose finalizer reverts the
// route and lets it go with the Canary. A Canary deleted without it leaves
// the route serving the primary, owned by the target, baseline backend
// included.
func keepsService(cd *flaggerv1.Canary) bool {
	return BaselineEnabled(cd) && (cd.DeletionTimestamp == nil || !cd.Spec.RevertOnDeletion)
}

// keepService creates or corrects the baseline Service between runs.
func (b *Baselines) keepService(ctx context.Context, cd *flaggerv1.Canary) error {
	target, sel, err := b.d.target(cd)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	primarySvc, err := b.primaryService(cd)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = b.ensureService(ctx, cd, NewBaselineService(cd, primarySvc, sel, targetOwner(target)))
	return err
}

func (b *Baselines) deleteDeployment(ctx context.Context, dep *appsv1.Deployment) error {
	err := b.d.kube.AppsV1().Deployments(dep.Namespace).Delete(ctx, dep.Name, deleteOptions(dep.UID))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting deployment %s.%s failed: %w", dep.Name, dep.Namespace, err)
	}
	return nil
}

// deleteOptions deletes the object uid only (not one re-created under its
// name since the lister saw it), its ReplicaSets and pods in the
// background: the object goes at once, its pods after their grace period.
func deleteOptions(uid types.UID) metav1.DeleteOptions {
	background := metav1.DeletePropagationBackground
	return metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}, PropagationPolicy: &background}
}

// primaryService reads the primary Service, whose ports the baseline's copy.
func (b *Baselines) primaryService(cd *flaggerv1.Canary) (*corev1.Service, error) {
	_, name, _ := cd.GetServiceNames()
	svc, err := b.services.Services(cd.Namespace).Get(name)
	if err != nil {
		return nil, fmt.Errorf("service %s.%s get error: %w", name, cd.Namespace, err)
	}
	return svc, nil
}

// ensureDeployment creates the baseline Deployment, updates it, or deletes
// it when its immutable selector differs (the next call creates it again),
// and reports whether it wrote.
func (b *Baselines) ensureDeployment(ctx context.Context, cd *flaggerv1.Canary, desired *appsv1.Deployment) (bool, error) {
	client := b.d.kube.AppsV1().Deployments(cd.Namespace)
	live, err := b.d.deployments.Deployments(cd.Namespace).Get(desired.Name)
	if apierrors.IsNotFound(err) {
		_, err := client.Create(ctx, desired, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return false, fmt.Errorf("creating deployment %s.%s failed: %w", desired.Name, cd.Namespace, err)
		}
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("deployment %s.%s get query error: %w", desired.Name, cd.Namespace, err)
	}
	if !metav1.IsControlledBy(live, cd) {
		return false, fmt.Errorf("deployment %s.%s %w", desired.Name, cd.Namespace, ErrNotControlled)
	}
	switch diffBaseline(live, desired) {
	case baselineRecreate:
		return true, b.deleteDeployment(ctx, live)
	case baselineUpdate:
		if _, err := client.Update(ctx, updatedBaseline(live, desired), metav1.UpdateOptions{}); err != nil {
			return false, fmt.Errorf("updating deployment %s.%s failed: %w", desired.Name, cd.Namespace, err)
		}
		return true, nil
	}
	return false, nil
}

// ensureService creates or corrects the baseline Service and reports
// whether it wrote.
func (b *Baselines) ensureService(ctx context.Context, cd *flaggerv1.Canary, desired *corev1.Service) (bool, error) {
	client := b.d.kube.CoreV1().Services(cd.Namespace)
	live, err := b.services.Services(cd.Namespace).Get(desired.Name)
	if apierrors.IsNotFound(err) {
		_, err := client.Create(ctx, desired, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return false, fmt.Errorf("creating service %s.%s failed: %w", desired.Name, cd.Namespace, err)
		}
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("service %s.%s get error: %w", desired.Name, cd.Namespace, err)
	}
	if !metav1.IsControlledBy(live, cd) {
		return false, fmt.Errorf("service %s.%s %w", desired.Name, cd.Namespace, ErrNotControlled)
	}
	if !serviceDiffers(live, desired) {
		return false, nil
	}
	if _, err := client.Update(ctx, updatedService(live, desired), metav1.UpdateOptions{}); err != nil {
		return false, fmt.Errorf("updating service %s.%s failed: %w", desired.Name, cd.Namespace, err)
	}
	return true, nil
}

// BaselineLeft reports whether RemoveBaseline has something to do: the
// baseline Deployment exists; or its Service is missing while the route
// refers to it (the route names the baseline backend, at weight 0, from
// the canary's initialization on, and a reference that does not resolve
// makes a gateway report ResolvedRefs False); or the Service exists while
// the route no longer refers to it. It reads listers only, so that the
// state machine can ask on every tick and act only when there is work.
func (b *Baselines) BaselineLeft(cd *flaggerv1.Canary) bool {
	if _, err := b.d.deployments.Deployments(cd.Namespace).Get(BaselineName(cd)); !apierrors.IsNotFound(err) {
		return true // present, or unknown: RemoveBaseline will tell
	}
	svc, err := b.services.Services(cd.Namespace).Get(baselineServiceName(cd))
	if keepsService(cd) {
		return apierrors.IsNotFound(err)
	}
	return err == nil && metav1.IsControlledBy(svc, cd)
}
