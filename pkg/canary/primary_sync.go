package canary

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// EnsurePrimary creates the primary Deployment, after the -primary copies of
// the configs the target uses, when it does not exist yet, and reports
// whether it did. An existing primary is left alone: only Promote changes it.
func (c *DeploymentController) EnsurePrimary(ctx context.Context, cd *flaggerv1.Canary) (bool, error) {
	target, sel, err := c.target(cd)
	if err != nil {
		return false, err
	}
	_, err = c.deployments.Deployments(cd.Namespace).Get(PrimaryName(cd))
	if err == nil {
		return false, nil
	}
	if !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deployment %s.%s get query error: %w", PrimaryName(cd), cd.Namespace, err)
	}
	configs, err := c.resolveConfigs(cd.Namespace, &target.Spec.Template.Spec)
	if err != nil {
		return false, err
	}
	if err := c.syncPrimaryConfigs(ctx, cd, configs); err != nil {
		return false, err
	}
	primary := NewPrimaryDeployment(cd, target, c.primaryOptions(sel, configs))
	_, err = c.kube.AppsV1().Deployments(cd.Namespace).Create(ctx, primary, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// The lister lags behind a create from an earlier sync.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("creating deployment %s.%s failed: %w", primary.Name, cd.Namespace, err)
	}
	return true, nil
}

// Promote copies the target's pod template, rollout settings and (without an
// autoscaler) replicas to the primary, after syncing the -primary copies of
// the target's configs. It always writes: the new flagger-id restarts the
// primary's pods, so that they also pick up changed configs.
func (c *DeploymentController) Promote(ctx context.Context, cd *flaggerv1.Canary) error {
	target, sel, err := c.target(cd)
	if err != nil {
		return err
	}
	primary, err := c.getDeployment(cd.Namespace, PrimaryName(cd))
	if err != nil {
		return err
	}
	configs, err := c.resolveConfigs(cd.Namespace, &target.Spec.Template.Spec)
	if err != nil {
		return err
	}
	if err := c.syncPrimaryConfigs(ctx, cd, configs); err != nil {
		return err
	}
	promoted := PromotePrimary(cd, target, primary, c.primaryOptions(sel, configs))
	if _, err := c.kube.AppsV1().Deployments(cd.Namespace).Update(ctx, promoted, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating deployment %s.%s template spec failed: %w", promoted.Name, cd.Namespace, err)
	}
	return nil
}

func (c *DeploymentController) primaryOptions(sel Selector, configs trackedConfigs) PrimaryOptions {
	return PrimaryOptions{
		Selector:           sel,
		Configs:            configs.checksums,
		IncludeLabelPrefix: c.includePrefix,
		ID:                 c.newID(),
	}
}
