package router

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// routeFlow is the router's work on the routes of one kind; GatewayAPIRouter
// picks the flow of a canary's spec.service.route.kind.
type routeFlow interface {
	reconcile(ctx context.Context, cd *flaggerv1.Canary, target Target) error
	getRoutes(ctx context.Context, cd *flaggerv1.Canary) (Routes, error)
	setRoutes(ctx context.Context, cd *flaggerv1.Canary, routes Routes) error
	rewriteOwners(ctx context.Context, cd *flaggerv1.Canary, rw owners.Rewrite) error
	// prune deletes the routes of this kind that cd controls, but keep.
	prune(ctx context.Context, cd *flaggerv1.Canary, keep string) error
}

// routeObject is a live route: *gatewayv1.HTTPRoute or *gatewayv1.GRPCRoute.
type routeObject interface {
	metav1.Object
	runtime.Object
}

// routeStore reads the routes of one kind from the cache and writes them.
type routeStore[R routeObject] interface {
	// get reads the route from the lister; the result is shared with the
	// cache and must not be modified.
	get(namespace, name string) (R, error)
	create(ctx context.Context, route R) error
	update(ctx context.Context, route R) error
	// list reads the routes of a namespace from the lister (shared with the
	// cache).
	list(namespace string) ([]R, error)
	// delete deletes a route if it still has uid.
	delete(ctx context.Context, namespace, name string, uid types.UID) error
	// managers reads the route from the API server for its managedFields,
	// which the informers strip: only a refusal names them, so only a
	// refusal pays the request.
	managers(ctx context.Context, namespace, name string) ([]metav1.ManagedFieldsEntry, error)
}

// kindRouter is the flow of one route kind; the functions are what
// differs between HTTPRoute and GRPCRoute (the spec types share no
// interface). S is the spec type.
type kindRouter[R routeObject, S any] struct {
	kind     string
	store    routeStore[R]
	newRoute func(metav1.ObjectMeta, S) R
	spec     func(R) *S
	state    func(R) routeState
	// desired builds the spec for the split: from the template when there
	// is one (nil otherwise).
	desired func(cd *flaggerv1.Canary, template *S, routes Routes) (S, error)
	// routes reads the split back from a live spec.
	routes func(cd *flaggerv1.Canary, spec *S) (Routes, bool)
	// equal compares specs with the API server's defaults applied.
	equal func(a, b *S) bool
}

func (k *kindRouter[R, S]) reconcile(ctx context.Context, cd *flaggerv1.Canary, target Target) error {
	name := RouteName(cd)
	tmpl, err := k.template(cd)
	if err != nil {
		return err
	}
	live, err := k.store.get(cd.Namespace, name)
	if apierrors.IsNotFound(err) {
		return k.create(ctx, cd, name, tmpl, target.Owner)
	}
	if err != nil {
		return fmt.Errorf("%s %s.%s get error: %w", k.kind, name, cd.Namespace, err)
	}
	routes, found := k.routes(cd, k.spec(live))
	if !found {
		// A rule that lost its primary or canary backend (another writer)
		// is rebuilt at the weight the status records, so that a run in
		// progress keeps its weight instead of falling back to 0.
		w := min(max(cd.Status.CanaryWeight, 0), 100)
		routes = Routes{Primary: 100 - w, Canary: w}
	}
	refs := live.GetOwnerReferences()
	if metav1.IsControlledBy(live, cd) {
		refs = owners.AddTarget(target.Owner)(refs)
	}
	return k.apply(ctx, cd, live, tmpl, routes, refs)
}

func (k *kindRouter[R, S]) getRoutes(ctx context.Context, cd *flaggerv1.Canary) (Routes, error) {
	name := RouteName(cd)
	live, err := k.store.get(cd.Namespace, name)
	if err != nil {
		return Routes{}, fmt.Errorf("%s %s.%s get error: %w", k.kind, name, cd.Namespace, err)
	}
	if strictOwnership(cd) {
		if err := k.controlled(ctx, cd, live); err != nil {
			return Routes{}, err
		}
	}
	if err := checkParents(k.state(live)); err != nil {
		return Routes{}, err
	}
	routes, found := k.routes(cd, k.spec(live))
	if !found {
		_, primary, canary := cd.GetServiceNames()
		return Routes{}, fmt.Errorf("%s %s.%s has no rule with backends %s and %s", k.kind, name, cd.Namespace, primary, canary)
	}
	return routes, nil
}

func (k *kindRouter[R, S]) setRoutes(ctx context.Context, cd *flaggerv1.Canary, routes Routes) error {
	name := RouteName(cd)
	tmpl, err := k.template(cd)
	if err != nil {
		return err
	}
	live, err := k.store.get(cd.Namespace, name)
	if err != nil {
		return fmt.Errorf("%s %s.%s get error: %w", k.kind, name, cd.Namespace, err)
	}
	if err := k.apply(ctx, cd, live, tmpl, routes, live.GetOwnerReferences()); err != nil {
		return fmt.Errorf("%w while setting weights", err)
	}
	return nil
}

func (k *kindRouter[R, S]) rewriteOwners(ctx context.Context, cd *flaggerv1.Canary, rw owners.Rewrite) error {
	name := RouteName(cd)
	live, err := k.store.get(cd.Namespace, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s %s.%s get error: %w", k.kind, name, cd.Namespace, err)
	}
	refs, changed := rw.Changes(live.GetOwnerReferences())
	if !metav1.IsControlledBy(live, cd) || !changed {
		return nil
	}
	route := live.DeepCopyObject().(R)
	route.SetOwnerReferences(refs)
	if err := k.store.update(ctx, route); err != nil {
		return fmt.Errorf("%s %s.%s owner references: %w", k.kind, name, cd.Namespace, err)
	}
	return nil
}

// prune deletes the routes of this kind that cd controls other than keep
// ("" keeps none): the live route of an earlier spec.service.route.name or
// kind, which would otherwise stay attached to the Gateway with the weights
// it had when it was left. Adopted routes are not cd's and stay.
func (k *kindRouter[R, S]) prune(ctx context.Context, cd *flaggerv1.Canary, keep string) error {
	routes, err := k.store.list(cd.Namespace)
	if err != nil {
		return fmt.Errorf("%s list error: %w", k.kind, err)
	}
	for _, route := range routes {
		if route.GetName() == keep || !metav1.IsControlledBy(route, cd) {
			continue
		}
		err := k.store.delete(ctx, cd.Namespace, route.GetName(), route.GetUID())
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("%s %s.%s (left by an earlier route name or kind) delete error: %w", k.kind, route.GetName(), cd.Namespace, err)
		}
	}
	return nil
}

// template reads the canary's route template from the cache; nil without
// one. The router never writes it. A missing template is permanent: its
// creation wakes the canary (the route informers' template index).
func (k *kindRouter[R, S]) template(cd *flaggerv1.Canary) (*S, error) {
	name := RouteTemplate(cd)
	if name == "" {
		return nil, nil
	}
	tmpl, err := k.store.get(cd.Namespace, name)
	if apierrors.IsNotFound(err) {
		return nil, syncerr.Invalid("spec.service.route.templateRef", "%s %s.%s not found", k.kind, name, cd.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("%s template %s.%s get error: %w", k.kind, name, cd.Namespace, err)
	}
	return k.spec(tmpl), nil
}

func (k *kindRouter[R, S]) create(ctx context.Context, cd *flaggerv1.Canary, name string, tmpl *S, target metav1.OwnerReference) error {
	spec, err := k.desired(cd, tmpl, Routes{Primary: 100})
	if err != nil {
		return fmt.Errorf("%s %s.%s not created: %w", k.kind, name, cd.Namespace, err)
	}
	labels, annotations := desiredRouteMetadata(cd)
	route := k.newRoute(metav1.ObjectMeta{
		Name:            name,
		Namespace:       cd.Namespace,
		Labels:          labels,
		Annotations:     annotations,
		OwnerReferences: owners.Of(cd, target),
	}, spec)
	if err := k.store.create(ctx, route); err != nil {
		return fmt.Errorf("%s %s.%s create error: %w", k.kind, name, cd.Namespace, err)
	}
	return nil
}

// apply makes live match the Canary with the given split and owner
// references, updating it only when the spec or the metadata differs.
func (k *kindRouter[R, S]) apply(ctx context.Context, cd *flaggerv1.Canary, live R, tmpl *S, routes Routes,
	refs []metav1.OwnerReference) error {
	if err := k.controlled(ctx, cd, live); err != nil {
		return err
	}
	spec, err := k.desired(cd, tmpl, routes)
	if err != nil {
		return fmt.Errorf("%s %s.%s not updated: %w", k.kind, live.GetName(), live.GetNamespace(), err)
	}
	labels, annotations := desiredRouteMetadata(cd)
	labels = mergeMetadata(live.GetLabels(), labels)
	annotations = mergeMetadata(live.GetAnnotations(), annotations)
	if k.equal(k.spec(live), &spec) &&
		equality.Semantic.DeepEqual(live.GetLabels(), labels) &&
		equality.Semantic.DeepEqual(live.GetAnnotations(), annotations) &&
		equality.Semantic.DeepEqual(live.GetOwnerReferences(), refs) {
		return nil
	}
	route := live.DeepCopyObject().(R)
	*k.spec(route) = spec
	route.SetLabels(labels)
	route.SetAnnotations(annotations)
	route.SetOwnerReferences(refs)
	if err := k.store.update(ctx, route); err != nil {
		return fmt.Errorf("%s %s.%s update error: %w", k.kind, live.GetName(), live.GetNamespace(), err)
	}
	return nil
}

// controlled refuses a live route the canary may not write: one controlled
// by another object (ErrNotControlled) and, when the canary sets
// spec.service.route (see strictOwnership), one without a controller too,
// naming who holds it (a *ForeignRouteError). Flagger's adoption of an
// uncontrolled route named after the service is kept otherwise.
func (k *kindRouter[R, S]) controlled(ctx context.Context, cd *flaggerv1.Canary, live R) error {
	owner := metav1.GetControllerOf(live)
	if owner != nil && owner.UID == cd.UID {
		return nil
	}
	if !strictOwnership(cd) {
		if owner == nil {
			return nil
		}
		return fmt.Errorf("%s %s.%s: %w %s %s", k.kind, live.GetName(), live.GetNamespace(), ErrNotControlled, owner.Kind, owner.Name)
	}
	who := "unknown"
	if owner != nil {
		who = owner.Kind + " " + owner.Name
	} else if entries, err := k.store.managers(ctx, live.GetNamespace(), live.GetName()); err == nil && len(entries) > 0 {
		who = managerNames(entries)
	}
	return &ForeignRouteError{Kind: k.kind, Route: live.GetName() + "." + live.GetNamespace(), Owner: who}
}

// managerNames lists the field managers that wrote an object's spec or
// metadata (status writers, the gateway controllers, are left out), sorted.
func managerNames(entries []metav1.ManagedFieldsEntry) string {
	seen := map[string]bool{}
	var names []string
	for _, e := range entries {
		if e.Subresource != "" || seen[e.Manager] {
			continue
		}
		seen[e.Manager] = true
		names = append(names, e.Manager)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "unknown"
	}
	return strings.Join(names, ", ")
}
