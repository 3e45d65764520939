package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// lastAppliedAnnotation is where kubectl apply keeps the applied object;
// Finalize restores an adopted apex Service's selector from it.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// KubernetesRouter manages the ClusterIP Services of a canary, reading
// through a Service lister and writing only what differs.
type KubernetesRouter struct {
	client   kubernetes.Interface
	services corelisters.ServiceLister
}

var _ ServiceRouter = (*KubernetesRouter)(nil)

// NewKubernetesRouter returns a ServiceRouter that writes with client and
// reads with services.
func NewKubernetesRouter(client kubernetes.Interface, services corelisters.ServiceLister) *KubernetesRouter {
	return &KubernetesRouter{client: client, services: services}
}

// Initialize creates or updates "<svc>-primary" and "<svc>-canary".
func (r *KubernetesRouter) Initialize(ctx context.Context, cd *flaggerv1.Canary, target Target) error {
	if err := validTarget(target); err != nil {
		return err
	}
	if err := r.sync(ctx, cd, desiredService(cd, rolePrimary, target), target.Owner); err != nil {
		return err
	}
	return r.sync(ctx, cd, desiredService(cd, roleCanary, target), target.Owner)
}

// Reconcile creates or updates the apex "<svc>", which selects the primary
// pods. An existing apex Service that the Canary does not control is
// adopted: its selector and ports change, its metadata and owners do not.
// The Services it controls get the target's owner reference when they lack
// it (created by an older Serin, or by Flagger).
func (r *KubernetesRouter) Reconcile(ctx context.Context, cd *flaggerv1.Canary, target Target) error {
	if err := validTarget(target); err != nil {
		return err
	}
	return r.sync(ctx, cd, desiredService(cd, roleApex, target), target.Owner)
}

// Finalize points an adopted apex Service back at the target pods, using
// the selector recorded by kubectl apply when there is one. Services the
// router created are left to garbage collection.
func (r *KubernetesRouter) Finalize(ctx context.Context, cd *flaggerv1.Canary, target Target) error {
	apex, _, _ := cd.GetServiceNames()
	live, err := r.services.Services(cd.Namespace).Get(apex)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("service %s.%s get error: %w", apex, cd.Namespace, err)
	}
	if metav1.IsControlledBy(live, cd) {
		return nil
	}
	selector := lastAppliedSelector(live)
	if selector == nil {
		if err := validTarget(target); err != nil {
			return err
		}
		selector = map[string]string{target.SelectorLabel: target.SelectorValue}
	}
	if equality.Semantic.DeepEqual(live.Spec.Selector, selector) {
		return nil
	}
	svc := live.DeepCopy()
	svc.Spec.Selector = selector
	if _, err := r.client.CoreV1().Services(cd.Namespace).Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("service %s.%s update error: %w", apex, cd.Namespace, err)
	}
	return nil
}

// sync creates desired, or updates the live Service where it differs; a
// Service the canary controls gets target, the target's owner reference.
func (r *KubernetesRouter) sync(ctx context.Context, cd *flaggerv1.Canary, desired *corev1.Service,
	target metav1.OwnerReference) error {
	live, err := r.services.Services(desired.Namespace).Get(desired.Name)
	if apierrors.IsNotFound(err) {
		if _, err := r.client.CoreV1().Services(desired.Namespace).Create(ctx, desired, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("service %s.%s create error: %w", desired.Name, desired.Namespace, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("service %s.%s get error: %w", desired.Name, desired.Namespace, err)
	}
	owner := metav1.GetControllerOf(live)
	if owner != nil && owner.UID != cd.UID {
		return fmt.Errorf("service %s.%s: %w %s %s", live.Name, live.Namespace, ErrNotControlled, owner.Kind, owner.Name)
	}
	svc := mergeService(live, desired, owner != nil, cd.Spec.Service.UnmanagedMetadata)
	if owner != nil {
		svc.OwnerReferences = owners.AddTarget(target)(svc.OwnerReferences)
	}
	if equality.Semantic.DeepEqual(live, svc) {
		return nil
	}
	if _, err := r.client.CoreV1().Services(svc.Namespace).Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("service %s.%s update error: %w", svc.Name, svc.Namespace, err)
	}
	return nil
}

func validTarget(t Target) error {
	if t.SelectorLabel == "" || t.SelectorValue == "" {
		return errors.New("target selector label and value are required")
	}
	return validOwner(t)
}

// lastAppliedSelector returns the selector of the last kubectl-applied
// configuration, or nil.
func lastAppliedSelector(svc *corev1.Service) map[string]string {
	raw, ok := svc.Annotations[lastAppliedAnnotation]
	if !ok {
		return nil
	}
	var applied corev1.Service
	if err := json.Unmarshal([]byte(raw), &applied); err != nil {
		return nil
	}
	return applied.Spec.Selector
}
