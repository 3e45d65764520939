package operator

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gatewayinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"

	"github.com/serin-dev/serin/pkg/router"
)

// newRouters builds the Gateway API routers for the HTTPRoute versions the
// cluster serves. The version of -mesh-provider must be served; a canary's
// spec.provider may pick the other one if it is served too. GRPCRoutes are
// watched when the cluster serves them (gateway-api v1.1 or later); without
// them a GRPCRoute canary is refused.
func newRouters(kube kubernetes.Interface, gateway gatewayclient.Interface, factory gatewayinformers.SharedInformerFactory,
	meshProvider string) (map[string]router.Interface, []cache.SharedIndexInformer, error) {
	served := func(groupVersion, resource string) bool {
		list, err := kube.Discovery().ServerResourcesForGroupVersion(groupVersion)
		if err != nil {
			return false
		}
		for _, r := range list.APIResources {
			if r.Name == resource {
				return true
			}
		}
		return false
	}
	cfg := router.Config{GatewayClient: gateway}
	var informers []cache.SharedIndexInformer
	providers := map[string]string{}
	if served("gateway.networking.k8s.io/v1", "httproutes") {
		cfg.HTTPRouteListerV1 = factory.Gateway().V1().HTTPRoutes().Lister()
		informers = append(informers, factory.Gateway().V1().HTTPRoutes().Informer())
		providers[router.ProviderGatewayAPIV1] = router.ProviderGatewayAPIV1
		providers[router.ProviderGatewayAPI] = router.ProviderGatewayAPIV1
		if served("gateway.networking.k8s.io/v1", "grpcroutes") {
			cfg.GRPCRouteListerV1 = factory.Gateway().V1().GRPCRoutes().Lister()
			informers = append(informers, factory.Gateway().V1().GRPCRoutes().Informer())
		}
	}
	if served("gateway.networking.k8s.io/v1beta1", "httproutes") {
		cfg.HTTPRouteListerV1beta1 = factory.Gateway().V1beta1().HTTPRoutes().Lister()
		informers = append(informers, factory.Gateway().V1beta1().HTTPRoutes().Informer())
		providers[router.ProviderGatewayAPIV1beta1] = router.ProviderGatewayAPIV1beta1
	}
	if _, ok := providers[meshProvider]; !ok {
		return nil, nil, fmt.Errorf("-mesh-provider %s: the cluster does not serve HTTPRoutes of that version (are the Gateway API CRDs installed?)", meshProvider)
	}
	routers := map[string]router.Interface{}
	for name, provider := range providers {
		rt, err := router.New(provider, cfg)
		if err != nil {
			return nil, nil, err
		}
		routers[name] = rt
	}
	return routers, informers, nil
}
