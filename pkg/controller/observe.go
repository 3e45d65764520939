package controller

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// observe gathers what analysis.Step looks at. Every read goes through a
// lister: observing costs no API request.
func (c *Controller) observe(ctx context.Context, cd *flaggerv1.Canary, rt router.Interface) (analysis.Observations, error) {
	var obs analysis.Observations
	workload := c.cfg.Plugins.Workload
	rev, err := workload.Revision(ctx, cd)
	switch {
	case apierrors.IsNotFound(err):
		obs.TargetMissing = true
		return obs, nil
	case syncerr.IsPermanent(err):
		return obs, err // it names the field to fix
	case err != nil:
		return obs, fmt.Errorf("read revision: %w", err)
	}
	obs.TargetHash = rev.SpecHash
	if rev.ConfigTracking {
		obs.TrackedConfigs = rev.Configs
	}
	primaryErr := workload.IsPrimaryReady(ctx, cd)
	if apierrors.IsNotFound(primaryErr) {
		// Not yet created: the tick's EnsurePrimary creates it.
		primaryErr = &canary.NotReadyError{Message: fmt.Sprintf("%s.%s not ready: waiting for it to be created",
			canary.PrimaryName(cd), cd.Namespace)}
	}
	if obs.Primary, err = readiness(primaryErr); err != nil {
		return obs, fmt.Errorf("primary readiness: %w", err)
	}
	obs.PrimaryRevision = workload.PrimaryRevision(cd)
	if obs.Canary, err = readiness(workload.IsCanaryReady(ctx, cd)); err != nil {
		return obs, fmt.Errorf("canary readiness: %w", err)
	}
	routes, err := rt.GetRoutes(ctx, cd)
	obs.Routes = analysis.Routes{Primary: routes.Primary, Canary: routes.Canary, Mirrored: routes.Mirrored,
		Baseline: routes.Baseline, Err: err}
	if b := c.cfg.Plugins.Baselines; b != nil {
		obs.BaselineExists = b.BaselineLeft(cd)
		if canary.BaselineEnabled(cd) {
			if obs.Baseline, err = readiness(b.BaselineReady(cd)); err != nil {
				return obs, err
			}
		}
	}
	return obs, nil
}

// readiness turns a workload readiness check into an observation; only
// unexpected errors (not a verdict on the rollout) are returned.
func readiness(err error) (analysis.Readiness, error) {
	var notReady *canary.NotReadyError
	switch {
	case err == nil:
		return analysis.Readiness{State: analysis.Ready}, nil
	case errors.As(err, &notReady) && notReady.Stuck:
		return analysis.Readiness{State: analysis.Failed, Message: notReady.Message}, nil
	case errors.As(err, &notReady):
		return analysis.Readiness{State: analysis.Waiting, Message: notReady.Message, Draining: notReady.Draining}, nil
	case apierrors.IsNotFound(err):
		return analysis.Readiness{State: analysis.Waiting, Message: err.Error()}, nil
	}
	return analysis.Readiness{}, err
}
