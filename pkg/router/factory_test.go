package router

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"
	gatewaylistersv1 "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1"
	gatewaylistersv1beta1 "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1beta1"
)

func TestNew(t *testing.T) {
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	full := Config{
		GatewayClient:          gatewayfake.NewClientset(),
		HTTPRouteListerV1:      gatewaylistersv1.NewHTTPRouteLister(indexer),
		HTTPRouteListerV1beta1: gatewaylistersv1beta1.NewHTTPRouteLister(indexer),
	}
	for provider, want := range map[string]any{
		ProviderGatewayAPI:        v1Routes{},
		ProviderGatewayAPIV1:      v1Routes{},
		ProviderGatewayAPIV1beta1: v1beta1Routes{},
	} {
		r, err := New(provider, full)
		require.NoError(t, err, provider)
		flow := r.(*GatewayAPIRouter).http.(*kindRouter[*gatewayv1.HTTPRoute, gatewayv1.HTTPRouteSpec])
		assert.IsType(t, want, flow.store, provider)
	}

	for _, provider := range []string{"", "istio", "kubernetes", "gatewayapi:v1alpha2", "gatewayapi:v1beta1x", "GatewayAPI"} {
		_, err := New(provider, full)
		assert.ErrorIs(t, err, ErrUnsupportedProvider, provider)
	}

	_, err := New(ProviderGatewayAPIV1beta1, Config{GatewayClient: full.GatewayClient, HTTPRouteListerV1: full.HTTPRouteListerV1})
	assert.ErrorContains(t, err, "HTTPRouteListerV1beta1")
	_, err = New(ProviderGatewayAPIV1, Config{HTTPRouteListerV1: full.HTTPRouteListerV1})
	assert.ErrorContains(t, err, "GatewayClient")
}
