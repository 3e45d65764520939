package router

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// HandOver gives the Services the router created for cd (apex, primary,
// canary) to owner, the target, when cd is deleted without
// revertOnDeletion: they keep selecting the primary and go with the target.
// Adopted Services are not cd's and are left alone.
func (r *KubernetesRouter) HandOver(ctx context.Context, cd *flaggerv1.Canary, owner metav1.OwnerReference) error {
	apex, primary, canary := cd.GetServiceNames()
	for _, name := range []string{apex, primary, canary} {
		live, err := r.services.Services(cd.Namespace).Get(name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("service %s.%s get error: %w", name, cd.Namespace, err)
		}
		if !metav1.IsControlledBy(live, cd) {
			continue
		}
		svc := live.DeepCopy()
		svc.OwnerReferences = handOverRefs(svc.OwnerReferences, cd, owner)
		if _, err := r.client.CoreV1().Services(cd.Namespace).Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("service %s.%s hand-over error: %w", name, cd.Namespace, err)
		}
	}
	return nil
}

// HandOver gives the HTTPRoute the router created for cd to owner, the
// target, when cd is deleted without revertOnDeletion: it keeps routing to
// the primary and goes with the target. An adopted route is left alone.
func (r *GatewayAPIRouter) HandOver(ctx context.Context, cd *flaggerv1.Canary, owner metav1.OwnerReference) error {
	apex, _, _ := cd.GetServiceNames()
	live, err := r.routes.get(cd.Namespace, apex)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("HTTPRoute %s.%s get error: %w", apex, cd.Namespace, err)
	}
	if !metav1.IsControlledBy(live, cd) {
		return nil
	}
	route := live.DeepCopy()
	route.OwnerReferences = handOverRefs(route.OwnerReferences, cd, owner)
	if err := r.routes.update(ctx, route); err != nil {
		return fmt.Errorf("HTTPRoute %s.%s hand-over error: %w", apex, cd.Namespace, err)
	}
	return nil
}

// handOverRefs returns refs with owner in place of cd's reference.
func handOverRefs(refs []metav1.OwnerReference, cd *flaggerv1.Canary, owner metav1.OwnerReference) []metav1.OwnerReference {
	out := []metav1.OwnerReference{owner}
	for _, r := range refs {
		if r.UID != cd.UID && r.UID != owner.UID {
			out = append(out, r)
		}
	}
	return out
}
