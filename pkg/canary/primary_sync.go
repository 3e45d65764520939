package canary

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// EnsurePrimary creates the primary Deployment, after the -primary copies of
// the configs the target uses, when it does not exist yet, and reports
// whether it did. An existing primary is left alone (only Promote changes
// it) but for its owner references: see ensureTargetOwner.
func (c *Deployments) EnsurePrimary(ctx context.Context, cd *flaggerv1.Canary) (bool, error) {
	target, sel, err := c.target(cd)
	if err != nil {
		return false, err
	}
	existing, err := c.deployments.Deployments(cd.Namespace).Get(PrimaryName(cd))
	if err == nil {
		return false, c.ensureTargetOwner(ctx, cd, existing, targetOwner(target))
	}
	if !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deployment %s.%s get query error: %w", PrimaryName(cd), cd.Namespace, err)
	}
	configs, err := c.resolveConfigs(cd.Namespace, &target.Spec.Template.Spec)
	if err != nil {
		return false, err
	}
	if err := c.syncPrimaryConfigs(ctx, cd, targetOwner(target), configs); err != nil {
		return false, err
	}
	primary := NewPrimaryDeployment(cd, target, c.primaryOptions(sel, configs))
	rev, err := c.revisionOf(target, configs)
	if err != nil {
		return false, err
	}
	setPromotedRevision(primary, rev)
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
// the target's configs, provided the target still runs revision, the
// RevisionID that was analysed. The copy and the primary's
// PromotedRevisionAnnotation are one write, so Promote is idempotent: a
// primary that already runs revision is left alone, and a step resumed after
// a crash neither copies twice nor restarts the primary's pods again.
//
// Unlike Flagger, which copies whatever template the target has when the
// promotion runs: a push during the promoting tick (while its webhooks and
// metric queries ran) reached the primary unanalysed. Here it gets a
// *RevisionChangedError and the state machine restarts the analysis.
func (c *Deployments) Promote(ctx context.Context, cd *flaggerv1.Canary, revision string) error {
	target, sel, err := c.target(cd)
	if err != nil {
		return err
	}
	primary, err := c.getDeployment(cd.Namespace, PrimaryName(cd))
	if err != nil {
		return err
	}
	if primary.Annotations[flaggerv1.PromotedRevisionAnnotation] == revision {
		return nil
	}
	configs, err := c.resolveConfigs(cd.Namespace, &target.Spec.Template.Spec)
	if err != nil {
		return err
	}
	current, err := c.revisionOf(target, configs)
	if err != nil {
		return err
	}
	if current != revision {
		return &RevisionChangedError{Target: target.Name + "." + target.Namespace, Analysed: revision, Current: current}
	}
	if err := c.syncPrimaryConfigs(ctx, cd, targetOwner(target), configs); err != nil {
		return err
	}
	promoted := PromotePrimary(cd, target, primary, c.primaryOptions(sel, configs))
	setPromotedRevision(promoted, revision)
	if _, err := c.kube.AppsV1().Deployments(cd.Namespace).Update(ctx, promoted, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating deployment %s.%s template spec failed: %w", promoted.Name, cd.Namespace, err)
	}
	return nil
}

// PrimaryRevision returns the revision the primary runs, from its
// PromotedRevisionAnnotation; "" when the primary predates the annotation
// (created by Flagger or an older Serin) or does not exist.
func (c *Deployments) PrimaryRevision(cd *flaggerv1.Canary) string {
	primary, err := c.getDeployment(cd.Namespace, PrimaryName(cd))
	if err != nil {
		return ""
	}
	return primary.Annotations[flaggerv1.PromotedRevisionAnnotation]
}

// RevisionChangedError is returned by Promote when the target no longer runs
// the analysed revision.
type RevisionChangedError struct {
	// Target is <name>.<namespace> of the target.
	Target string
	// Analysed and Current are the revision asked for and the target's.
	Analysed, Current string
}

func (e *RevisionChangedError) Error() string {
	return fmt.Sprintf("%s changed during the promotion (analysed revision %s, now %s): the analysis starts over",
		e.Target, e.Analysed, e.Current)
}

// revisionOf returns the RevisionID of target with its resolved configs.
func (c *Deployments) revisionOf(target *appsv1.Deployment, configs trackedConfigs) (string, error) {
	hash, err := PodTemplateHash(&target.Spec.Template)
	if err != nil {
		return "", err
	}
	if !c.trackConfigs {
		return hash, nil
	}
	return flaggerv1.RevisionID(hash, configs.checksums), nil
}

// setPromotedRevision records on the primary the revision its template
// comes from.
func setPromotedRevision(primary *appsv1.Deployment, revision string) {
	if primary.Annotations == nil {
		primary.Annotations = map[string]string{}
	}
	primary.Annotations[flaggerv1.PromotedRevisionAnnotation] = revision
}

func (c *Deployments) primaryOptions(sel Selector, configs trackedConfigs) PrimaryOptions {
	return PrimaryOptions{
		Selector:           sel,
		Configs:            configs.checksums,
		IncludeLabelPrefix: c.includePrefix,
		ID:                 c.newID(),
	}
}
