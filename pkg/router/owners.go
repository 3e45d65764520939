package router

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// RewriteOwners applies rw to the owner references of the Services cd
// controls (apex, primary, canary), writing those it changes: the hand-over
// to the target and the release from it when a canary is deleted (see
// pkg/owners). Adopted Services are not cd's and are left alone.
func (r *KubernetesRouter) RewriteOwners(ctx context.Context, cd *flaggerv1.Canary, rw owners.Rewrite) error {
	apex, primary, canary := cd.GetServiceNames()
	for _, name := range []string{apex, primary, canary} {
		live, err := r.services.Services(cd.Namespace).Get(name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("service %s.%s get error: %w", name, cd.Namespace, err)
		}
		refs, changed := rw.Changes(live.OwnerReferences)
		if !metav1.IsControlledBy(live, cd) || !changed {
			continue
		}
		svc := live.DeepCopy()
		svc.OwnerReferences = refs
		if _, err := r.client.CoreV1().Services(cd.Namespace).Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("service %s.%s owner references: %w", name, cd.Namespace, err)
		}
	}
	return nil
}
