package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// applier applies one decision's actions to the cluster, with nothing but
// the plugins it writes through.
type applier struct {
	workload  workloadWriter
	baselines Baselines
	services  router.ServiceRouter
	// updateCanary writes the canary's metadata (its finalizers).
	updateCanary func(ctx context.Context, cd *flaggerv1.Canary) (*flaggerv1.Canary, error)

	cd     *flaggerv1.Canary
	rt     router.Interface
	checks *checks
	// status is the decision's new status. The router builds session
	// affinity from the cookies in it, which the decision may have just
	// generated or retired.
	status flaggerv1.CanaryStatus
	// events collects what the actions themselves report (post-rollout hooks).
	events []analysis.Event
}

// apply runs the actions in order and stops at the first error: the next
// sync recomputes everything, and every action is idempotent. It returns the
// canary as last written (finalizer changes update it).
func (a *applier) apply(ctx context.Context, actions []analysis.Action) (*flaggerv1.Canary, error) {
	for _, action := range actions {
		if err := a.applyOne(ctx, action); err != nil {
			if syncerr.IsPermanent(err) {
				return a.cd, err // it names the field to fix, which is what the event must lead with
			}
			return a.cd, fmt.Errorf("%s: %w", action.Describe(), err)
		}
	}
	return a.cd, nil
}

func (a *applier) applyOne(ctx context.Context, action analysis.Action) error {
	workload := a.workload
	switch act := action.(type) {
	case analysis.EnsurePrimary:
		target, err := a.target(ctx)
		if err != nil {
			return err
		}
		if err := a.services.Initialize(ctx, a.cd, target); err != nil {
			return err
		}
		if _, err := workload.EnsurePrimary(ctx, a.cd); err != nil {
			return err
		}
		return workload.ReconcilePrimaryHPA(ctx, a.cd, false)
	case analysis.ReconcileRouting:
		target, err := a.target(ctx)
		if err != nil {
			return err
		}
		if err := a.services.Reconcile(ctx, a.cd, target); err != nil {
			return err
		}
		return a.rt.Reconcile(ctx, a.cd, target)
	case analysis.SetRoutes:
		// The decision's status, not the cached one: a run's first step
		// brings its session cookie, and its last step retires it.
		// ReconcileRouting keeps the cached status, which matches the live
		// route, so that a tick moving traffic writes the route once.
		routed := a.cd.DeepCopy()
		routed.Status = a.status
		return a.rt.SetRoutes(ctx, routed, router.Routes{Primary: act.Primary, Canary: act.Canary, Mirrored: act.Mirrored,
			Baseline: act.Baseline})
	case analysis.EnsureBaseline:
		err := a.baselines.EnsureBaseline(ctx, a.cd)
		var notReady *canary.NotReadyError
		if errors.As(err, &notReady) {
			return nil // observed as the baseline's readiness on this tick and the next
		}
		return err
	case analysis.RemoveBaseline:
		return a.baselines.RemoveBaseline(ctx, a.cd)
	case analysis.ScaleTargetToZero:
		return workload.ScaleToZero(ctx, a.cd)
	case analysis.ScaleTargetFromZero:
		return workload.ScaleFromZero(ctx, a.cd)
	case analysis.PromoteToPrimary:
		return workload.Promote(ctx, a.cd, act.Revision)
	case analysis.ReconcilePrimaryAutoscaler:
		return workload.ReconcilePrimaryHPA(ctx, a.cd, true)
	case analysis.PauseTargetAutoscaler:
		if p, ok := workload.(targetScalers); ok {
			return p.PauseTargetScaler(ctx, a.cd)
		}
		return nil
	case analysis.ResumeTargetAutoscaler:
		if p, ok := workload.(targetScalers); ok {
			return p.ResumeTargetScaler(ctx, a.cd)
		}
		return nil
	case analysis.RunPostRolloutHooks:
		a.events = append(a.events, analysis.PostRolloutEvents(ctx, a.cd, a.checks, act.Phase)...)
		return nil
	case analysis.RestoreTarget:
		return workload.Finalize(ctx, a.cd)
	case analysis.RevertRouting:
		target, err := a.target(ctx)
		if err != nil {
			return err
		}
		if err := a.services.Finalize(ctx, a.cd, target); err != nil {
			return err
		}
		return a.rt.Finalize(ctx, a.cd)
	case analysis.HandOverToTarget:
		owner, err := workload.TargetOwner(a.cd)
		if err != nil {
			return err
		}
		return a.rewriteOwners(ctx, owners.HandOver(a.cd.UID, owner))
	case analysis.ReleaseFromTarget:
		return a.rewriteOwners(ctx, owners.RemoveTargetKind(a.cd.Spec.TargetRef.Kind, a.cd.Spec.TargetRef.Name))
	case analysis.AddFinalizer:
		return a.setFinalizer(ctx, true)
	case analysis.RemoveFinalizer:
		return a.setFinalizer(ctx, false)
	}
	return fmt.Errorf("unknown action %T", action)
}

// target describes the target's pods for the Services.
func (a *applier) target(ctx context.Context) (router.Target, error) {
	meta, err := a.workload.GetMetadata(ctx, a.cd)
	if err != nil {
		return router.Target{}, err
	}
	return router.Target{SelectorLabel: meta.Selector.Key, SelectorValue: meta.Selector.Value, Ports: meta.Ports,
		Owner: meta.Owner}, nil
}

// rewriteOwners applies rw to the owner references of every object the
// canary controls: workload, Services, route.
func (a *applier) rewriteOwners(ctx context.Context, rw owners.Rewrite) error {
	if err := a.workload.RewriteOwners(ctx, a.cd, rw); err != nil {
		return err
	}
	if err := a.services.RewriteOwners(ctx, a.cd, rw); err != nil {
		return err
	}
	return a.rt.RewriteOwners(ctx, a.cd, rw)
}

// setFinalizer adds or removes Flagger's finalizer with an update of the
// canary's metadata; the status is written separately, after.
func (a *applier) setFinalizer(ctx context.Context, present bool) error {
	has := slices.Contains(a.cd.Finalizers, analysis.Finalizer)
	if has == present {
		return nil
	}
	cd := a.cd.DeepCopy()
	if present {
		cd.Finalizers = append(cd.Finalizers, analysis.Finalizer)
	} else {
		cd.Finalizers = slices.DeleteFunc(cd.Finalizers, func(f string) bool { return f == analysis.Finalizer })
	}
	updated, err := a.updateCanary(ctx, cd)
	if err != nil {
		return err
	}
	a.cd = updated
	return nil
}

// eventType maps the analysis' event types to Kubernetes'.
func eventType(t string) string {
	if t == corev1.EventTypeWarning {
		return corev1.EventTypeWarning
	}
	return corev1.EventTypeNormal
}

// newApplier builds the applier of one decision of cd.
func (c *Controller) newApplier(cd *flaggerv1.Canary, rt router.Interface, k *checks, status flaggerv1.CanaryStatus) *applier {
	return &applier{workload: c.cfg.Plugins.Workload, baselines: c.cfg.Plugins.Baselines, services: c.cfg.Plugins.Services, updateCanary: c.updateCanary,
		cd: cd, rt: rt, checks: k, status: status}
}

// updateCanary updates cd and expects the informer to deliver the write
// before the next sync of cd trusts the cache.
func (c *Controller) updateCanary(ctx context.Context, cd *flaggerv1.Canary) (*flaggerv1.Canary, error) {
	updated, err := c.cfg.FlaggerClient.FlaggerV1beta1().Canaries(cd.Namespace).Update(ctx, cd, metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	c.expected.expect(cache.ObjectName{Namespace: updated.Namespace, Name: updated.Name}, updated, c.clock.Now())
	return updated, nil
}
