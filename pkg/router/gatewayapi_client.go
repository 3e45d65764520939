package router

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	gatewayclientv1 "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/typed/apis/v1"
	gatewayclientv1beta1 "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/typed/apis/v1beta1"
	gatewaylistersv1 "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1"
	gatewaylistersv1beta1 "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1beta1"
)

// The stores are the only part of the Gateway API router that differs
// between API versions. In the upstream module v1beta1.HTTPRoute is defined
// as v1.HTTPRoute and every type inside it is an alias, so converting
// between the two is a pointer conversion, not a copy.

// v1Routes serves gateway.networking.k8s.io/v1 HTTPRoutes.
type v1Routes struct {
	client gatewayclientv1.GatewayV1Interface
	lister gatewaylistersv1.HTTPRouteLister
}

func (r v1Routes) get(namespace, name string) (*gatewayv1.HTTPRoute, error) {
	return r.lister.HTTPRoutes(namespace).Get(name)
}

func (r v1Routes) create(ctx context.Context, route *gatewayv1.HTTPRoute) error {
	_, err := r.client.HTTPRoutes(route.Namespace).Create(ctx, route, metav1.CreateOptions{})
	return err
}

func (r v1Routes) update(ctx context.Context, route *gatewayv1.HTTPRoute) error {
	_, err := r.client.HTTPRoutes(route.Namespace).Update(ctx, route, metav1.UpdateOptions{})
	return err
}

func (r v1Routes) list(namespace string) ([]*gatewayv1.HTTPRoute, error) {
	return r.lister.HTTPRoutes(namespace).List(labels.Everything())
}

func (r v1Routes) delete(ctx context.Context, namespace, name string, uid types.UID) error {
	return r.client.HTTPRoutes(namespace).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
}

func (r v1Routes) managers(ctx context.Context, namespace, name string) ([]metav1.ManagedFieldsEntry, error) {
	route, err := r.client.HTTPRoutes(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return route.ManagedFields, nil
}

// v1beta1Routes serves gateway.networking.k8s.io/v1beta1 HTTPRoutes.
type v1beta1Routes struct {
	client gatewayclientv1beta1.GatewayV1beta1Interface
	lister gatewaylistersv1beta1.HTTPRouteLister
}

func (r v1beta1Routes) get(namespace, name string) (*gatewayv1.HTTPRoute, error) {
	route, err := r.lister.HTTPRoutes(namespace).Get(name)
	return (*gatewayv1.HTTPRoute)(route), err
}

func (r v1beta1Routes) create(ctx context.Context, route *gatewayv1.HTTPRoute) error {
	_, err := r.client.HTTPRoutes(route.Namespace).Create(ctx, (*gatewayv1beta1.HTTPRoute)(route), metav1.CreateOptions{})
	return err
}

func (r v1beta1Routes) update(ctx context.Context, route *gatewayv1.HTTPRoute) error {
	_, err := r.client.HTTPRoutes(route.Namespace).Update(ctx, (*gatewayv1beta1.HTTPRoute)(route), metav1.UpdateOptions{})
	return err
}

func (r v1beta1Routes) list(namespace string) ([]*gatewayv1.HTTPRoute, error) {
	routes, err := r.lister.HTTPRoutes(namespace).List(labels.Everything())
	out := make([]*gatewayv1.HTTPRoute, len(routes))
	for i := range routes {
		out[i] = (*gatewayv1.HTTPRoute)(routes[i])
	}
	return out, err
}

func (r v1beta1Routes) delete(ctx context.Context, namespace, name string, uid types.UID) error {
	return r.client.HTTPRoutes(namespace).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
}

func (r v1beta1Routes) managers(ctx context.Context, namespace, name string) ([]metav1.ManagedFieldsEntry, error) {
	route, err := r.client.HTTPRoutes(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return route.ManagedFields, nil
}

// grpcRoutes serves gateway.networking.k8s.io/v1 GRPCRoutes, which have no
// v1beta1 version.
type grpcRoutes struct {
	client gatewayclientv1.GatewayV1Interface
	lister gatewaylistersv1.GRPCRouteLister
}

func (r grpcRoutes) get(namespace, name string) (*gatewayv1.GRPCRoute, error) {
	return r.lister.GRPCRoutes(namespace).Get(name)
}

func (r grpcRoutes) create(ctx context.Context, route *gatewayv1.GRPCRoute) error {
	_, err := r.client.GRPCRoutes(route.Namespace).Create(ctx, route, metav1.CreateOptions{})
	return err
}

func (r grpcRoutes) update(ctx context.Context, route *gatewayv1.GRPCRoute) error {
	_, err := r.client.GRPCRoutes(route.Namespace).Update(ctx, route, metav1.UpdateOptions{})
	return err
}

func (r grpcRoutes) list(namespace string) ([]*gatewayv1.GRPCRoute, error) {
	return r.lister.GRPCRoutes(namespace).List(labels.Everything())
}

func (r grpcRoutes) delete(ctx context.Context, namespace, name string, uid types.UID) error {
	return r.client.GRPCRoutes(namespace).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
}

func (r grpcRoutes) managers(ctx context.Context, namespace, name string) ([]metav1.ManagedFieldsEntry, error) {
	route, err := r.client.GRPCRoutes(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return route.ManagedFields, nil
}
