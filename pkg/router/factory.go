package router

import (
	"fmt"
	"strings"

	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gatewaylistersv1 "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1"
	gatewaylistersv1beta1 "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1beta1"
)

// Mesh provider names accepted by New.
const (
	// ProviderGatewayAPI is the Gateway API at its default version, v1.
	ProviderGatewayAPI = "gatewayapi"
	// ProviderGatewayAPIV1 is the Gateway API through gateway.networking.k8s.io/v1.
	ProviderGatewayAPIV1 = "gatewayapi:v1"
	// ProviderGatewayAPIV1beta1 is the Gateway API through gateway.networking.k8s.io/v1beta1.
	ProviderGatewayAPIV1beta1 = "gatewayapi:v1beta1"
)

// Providers are the provider names a user chooses between, in the order
// messages list them; ProviderGatewayAPI is an alias of the first.
var Providers = []string{ProviderGatewayAPIV1, ProviderGatewayAPIV1beta1}

// Config holds what New needs to build a mesh router. Only the lister of
// the selected API version is required.
type Config struct {
	// GatewayClient writes HTTPRoutes and GRPCRoutes.
	GatewayClient gatewayclient.Interface
	// HTTPRouteListerV1 reads gateway.networking.k8s.io/v1 HTTPRoutes.
	HTTPRouteListerV1 gatewaylistersv1.HTTPRouteLister
	// HTTPRouteListerV1beta1 reads gateway.networking.k8s.io/v1beta1 HTTPRoutes.
	HTTPRouteListerV1beta1 gatewaylistersv1beta1.HTTPRouteLister
	// GRPCRouteListerV1 reads GRPCRoutes; nil when the cluster does not
	// serve them, and a GRPCRoute canary is then refused.
	GRPCRouteListerV1 gatewaylistersv1.GRPCRouteLister
}

// New returns the mesh router for a provider (a Canary's spec.provider or
// the operator's default). Unlike Flagger, which matches prefixes and falls
// back to Istio for anything else, the name must be one of the Provider
// constants; any other is an ErrUnsupportedProvider error.
func New(provider string, cfg Config) (Interface, error) {
	switch provider {
	case ProviderGatewayAPI, ProviderGatewayAPIV1:
		if cfg.GatewayClient == nil || cfg.HTTPRouteListerV1 == nil {
			return nil, fmt.Errorf("router %q needs GatewayClient and HTTPRouteListerV1", provider)
		}
		r := &GatewayAPIRouter{http: newHTTPFlow(v1Routes{client: cfg.GatewayClient.GatewayV1(), lister: cfg.HTTPRouteListerV1})}
		if cfg.GRPCRouteListerV1 != nil {
			r.grpc = newGRPCFlow(grpcRoutes{client: cfg.GatewayClient.GatewayV1(), lister: cfg.GRPCRouteListerV1})
		} else {
			r.noGRPC = "is not served by the cluster: install the Gateway API standard CRDs (v1.1 or later)"
		}
		return r, nil
	case ProviderGatewayAPIV1beta1:
		if cfg.GatewayClient == nil || cfg.HTTPRouteListerV1beta1 == nil {
			return nil, fmt.Errorf("router %q needs GatewayClient and HTTPRouteListerV1beta1", provider)
		}
		return &GatewayAPIRouter{
			http:   newHTTPFlow(v1beta1Routes{client: cfg.GatewayClient.GatewayV1beta1(), lister: cfg.HTTPRouteListerV1beta1}),
			noGRPC: "has no v1beta1 version: use spec.provider " + ProviderGatewayAPIV1,
		}, nil
	}
	return nil, fmt.Errorf("%w %q: supported are %s and %s", ErrUnsupportedProvider, provider,
		strings.Join(Providers, ", "), ProviderGatewayAPI)
}
