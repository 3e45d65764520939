package canary

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// EnsurePrimary creates the primary (a Deployment or DaemonSet, as the
// target), after the -primary copies of
// the configs the target uses, when it does not exist yet, and reports
// whether it did. An existing primary is left alone (only Promote changes
// it) but for its owner references: see ensureTargetOwner.
func (c *Deployments) EnsurePrimary(ctx context.Context, cd *flaggerv1.Canary) (bool, error) {
	k, target, sel, err := c.targetWorkload(cd)
	if err != nil {
		return false, err
	}
	existing, err := k.get(cd.Namespace, PrimaryName(cd))
	if err == nil {
		return false, c.ensureTargetOwner(ctx, cd, k, existing, targetOwner(target))
	}
	if !apierrors.IsNotFound(err) {
		return false, err
	}
	configs, err := c.resolveConfigs(cd.Namespace, &target.template.Spec)
	if err != nil {
		return false, err
	}
	if err := c.syncPrimaryConfigs(ctx, cd, targetOwner(target), configs); err != nil {
		return false, err
	}
	primary := k.newPrimary(cd, target, c.primaryOptions(sel, configs))
	rev, err := c.revisionOf(target, configs)
	if err != nil {
		return false, err
	}
	setPromotedRevision(primary, rev)
	err = k.create(ctx, primary)
	if apierrors.IsAlreadyExists(err) {
		// The lister lags behind a create from an earlier sync.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("creating %s %s.%s failed: %w", k.kindName(), primary.GetName(), cd.Namespace, err)
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
	k, target, sel, err := c.targetWorkload(cd)
	if err != nil {
		return err
	}
	primary, err := k.get(cd.Namespace, PrimaryName(cd))
	if err != nil {
		return err
	}
	if primary.GetAnnotations()[flaggerv1.PromotedRevisionAnnotation] == revision {
		return nil
	}
	configs, err := c.resolveConfigs(cd.Namespace, &target.template.Spec)
	if err != nil {
		return err
	}
	current, err := c.revisionOf(target, configs)
	if err != nil {
		return err
	}
	if current != revision {
		return &RevisionChangedError{Target: target.GetName() + "." + target.GetNamespace(), Analysed: revision, Current: current}
	}
	if err := c.syncPrimaryConfigs(ctx, cd, targetOwner(target), configs); err != nil {
		return err
	}
	promoted := k.promote(cd, target, primary, c.primaryOptions(sel, configs))
	setPromotedRevision(promoted, revision)
	if err := k.update(ctx, promoted); err != nil {
		return fmt.Errorf("updating %s %s.%s template spec failed: %w", k.kindName(), promoted.GetName(), cd.Namespace, err)
	}
	return nil
}

// PrimaryRevision returns the revision the primary runs, from its
// PromotedRevisionAnnotation; "" when the primary predates the annotation
// (created by Flagger or an older Serin) or does not exist.
func (c *Deployments) PrimaryRevision(cd *flaggerv1.Canary) string {
	k, err := c.kindOf(cd)
	if err != nil {
		return ""
	}
	primary, err := k.get(cd.Namespace, PrimaryName(cd))
	if err != nil {
		return ""
	}
	return primary.GetAnnotations()[flaggerv1.PromotedRevisionAnnotation]
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
func (c *Deployments) revisionOf(target workload, configs trackedConfigs) (string, error) {
	hash, err := PodTemplateHash(target.template)
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
func setPromotedRevision(primary metav1.Object, revision string) {
	annotations := primary.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[flaggerv1.PromotedRevisionAnnotation] = revision
	primary.SetAnnotations(annotations)
}

func (c *Deployments) primaryOptions(sel Selector, configs trackedConfigs) PrimaryOptions {
	return PrimaryOptions{
		Selector:           sel,
		Configs:            configs.checksums,
		IncludeLabelPrefix: c.includePrefix,
		ID:                 c.newID(),
	}
}
