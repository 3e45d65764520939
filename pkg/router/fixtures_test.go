package router

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	gatewayfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"
	gatewaylistersv1 "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1"
	gatewaylistersv1beta1 "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1beta1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// canaryOption changes a test Canary.
type canaryOption func(*flaggerv1.Canary)

// newCanary returns the seed podinfo canary (podinfo-canary.yaml) with opts
// applied.
func newCanary(opts ...canaryOption) *flaggerv1.Canary {
	cd := &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", UID: "uid-podinfo"},
		Spec: flaggerv1.CanarySpec{
			Provider:  ProviderGatewayAPIV1,
			TargetRef: flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Service: flaggerv1.CanaryService{
				Port:        9898,
				TargetPort:  intstr.FromInt32(9898),
				Hosts:       []string{"www.example.com"},
				GatewayRefs: []gatewayv1.ParentReference{{Name: "gateway", Namespace: ptrTo(gatewayv1.Namespace("istio-ingress"))}},
			},
			Analysis: &flaggerv1.CanaryAnalysis{Interval: "1m", Threshold: 5, MaxWeight: 50, StepWeight: 10},
		},
	}
	for _, o := range opts {
		o(cd)
	}
	return cd
}

func withService(f func(*flaggerv1.CanaryService)) canaryOption {
	return func(cd *flaggerv1.Canary) { f(&cd.Spec.Service) }
}

func withAnalysis(f func(*flaggerv1.CanaryAnalysis)) canaryOption {
	return func(cd *flaggerv1.Canary) { f(cd.Spec.Analysis) }
}

// withInsiderAB is the A/B test of the reference: Firefox users or
// insiders go to the canary.
func withInsiderAB() canaryOption {
	return withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
		a.StepWeight, a.MaxWeight, a.Iterations = 0, 0, 10
		a.Match = []flaggerv1.HTTPMatchRequest{
			{Headers: map[string]flaggerv1.StringMatch{"user-agent": {Regex: ".*Firefox.*"}}},
			{Headers: map[string]flaggerv1.StringMatch{"cookie": {Regex: "^(.*?;)?(type=insider)(;.*)?$"}}},
		}
	})
}

// gatewayEnv is a Gateway API router on a fake clientset whose lister is
// an indexer refreshed from the fake's tracker by sync.
type gatewayEnv struct {
	client  *gatewayfake.Clientset
	indexer cache.Indexer
	gvr     schema.GroupVersionResource
	gvk     schema.GroupVersionKind
	router  Interface
	// grpcIndexer backs the GRPCRoute lister (gatewayapi:v1 only).
	grpcIndexer cache.Indexer
}

var (
	grpcRoutesGVR = gatewayv1.SchemeGroupVersion.WithResource("grpcroutes")
	grpcRouteGVK  = gatewayv1.SchemeGroupVersion.WithKind("GRPCRoute")
)

func newGatewayEnv(t *testing.T, provider string) *gatewayEnv {
	t.Helper()
	e := &gatewayEnv{
		client:      gatewayfake.NewClientset(),
		indexer:     cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
		grpcIndexer: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
	}
	gv := gatewayv1.SchemeGroupVersion
	if provider == ProviderGatewayAPIV1beta1 {
		gv = gatewayv1beta1.SchemeGroupVersion
	}
	e.gvr, e.gvk = gv.WithResource("httproutes"), gv.WithKind("HTTPRoute")
	r, err := New(provider, Config{
		GatewayClient:          e.client,
		HTTPRouteListerV1:      gatewaylistersv1.NewHTTPRouteLister(e.indexer),
		HTTPRouteListerV1beta1: gatewaylistersv1beta1.NewHTTPRouteLister(e.indexer),
		GRPCRouteListerV1:      gatewaylistersv1.NewGRPCRouteLister(e.grpcIndexer),
	})
	require.NoError(t, err)
	e.router = r
	return e
}

// sync makes the lister see what the fake API server holds.
func (e *gatewayEnv) sync(t *testing.T) {
	t.Helper()
	syncIndexer(t, e.client.Tracker(), e.gvr, e.gvk, e.indexer)
	syncIndexer(t, e.client.Tracker(), grpcRoutesGVR, grpcRouteGVK, e.grpcIndexer)
}

// grpcRoute returns the stored GRPCRoute name.test.
func (e *gatewayEnv) grpcRoute(t *testing.T, name string) *gatewayv1.GRPCRoute {
	t.Helper()
	obj, err := e.client.Tracker().Get(grpcRoutesGVR, "test", name)
	require.NoError(t, err)
	return obj.(*gatewayv1.GRPCRoute).DeepCopy()
}

// putGRPC stores a GRPCRoute as a user or gateway controller would, then
// syncs.
func (e *gatewayEnv) putGRPC(t *testing.T, route *gatewayv1.GRPCRoute) {
	t.Helper()
	if _, err := e.client.Tracker().Get(grpcRoutesGVR, route.Namespace, route.Name); err == nil {
		require.NoError(t, e.client.Tracker().Update(grpcRoutesGVR, route, route.Namespace))
	} else {
		require.NoError(t, e.client.Tracker().Create(grpcRoutesGVR, route, route.Namespace))
	}
	e.sync(t)
}

// route returns the stored route podinfo.test as a v1 object.
func (e *gatewayEnv) route(t *testing.T) *gatewayv1.HTTPRoute {
	t.Helper()
	return e.routeNamed(t, "podinfo")
}

// routeNamed returns the stored HTTPRoute name.test as a v1 object.
func (e *gatewayEnv) routeNamed(t *testing.T, name string) *gatewayv1.HTTPRoute {
	t.Helper()
	obj, err := e.client.Tracker().Get(e.gvr, "test", name)
	require.NoError(t, err)
	switch r := obj.(type) {
	case *gatewayv1.HTTPRoute:
		return r.DeepCopy()
	case *gatewayv1beta1.HTTPRoute:
		return (*gatewayv1.HTTPRoute)(r.DeepCopy())
	}
	t.Fatalf("unexpected %T", obj)
	return nil
}

// put stores route as a user or gateway controller would, then syncs.
func (e *gatewayEnv) put(t *testing.T, route *gatewayv1.HTTPRoute) {
	t.Helper()
	var obj runtime.Object = route
	if e.gvr.Version == "v1beta1" {
		obj = (*gatewayv1beta1.HTTPRoute)(route)
	}
	if _, err := e.client.Tracker().Get(e.gvr, route.Namespace, route.Name); err == nil {
		require.NoError(t, e.client.Tracker().Update(e.gvr, obj, route.Namespace))
	} else {
		require.NoError(t, e.client.Tracker().Create(e.gvr, obj, route.Namespace))
	}
	e.sync(t)
}

// writes counts the create and update calls made on the fake.
func writes(actions []k8stesting.Action) (creates, updates int) {
	for _, a := range actions {
		switch a.GetVerb() {
		case "create":
			creates++
		case "update":
			updates++
		}
	}
	return creates, updates
}

func syncIndexer(t *testing.T, tracker k8stesting.ObjectTracker, gvr schema.GroupVersionResource, gvk schema.GroupVersionKind, indexer cache.Indexer) {
	t.Helper()
	list, err := tracker.List(gvr, gvk, "")
	require.NoError(t, err)
	items, err := meta.ExtractList(list)
	require.NoError(t, err)
	objs := make([]any, len(items))
	for i := range items {
		objs[i] = items[i]
	}
	require.NoError(t, indexer.Replace(objs, ""))
}

// kubeEnv is a Services router on a fake clientset.
type kubeEnv struct {
	client  *k8sfake.Clientset
	indexer cache.Indexer
	router  *KubernetesRouter
}

func newKubeEnv(t *testing.T, objs ...runtime.Object) *kubeEnv {
	t.Helper()
	e := &kubeEnv{
		client:  k8sfake.NewClientset(objs...),
		indexer: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
	}
	e.router = NewKubernetesRouter(e.client, corelisters.NewServiceLister(e.indexer))
	e.sync(t)
	return e
}

var servicesGVR = corev1.SchemeGroupVersion.WithResource("services")

func (e *kubeEnv) sync(t *testing.T) {
	t.Helper()
	syncIndexer(t, e.client.Tracker(), servicesGVR, corev1.SchemeGroupVersion.WithKind("Service"), e.indexer)
}

func (e *kubeEnv) service(t *testing.T, name string) *corev1.Service {
	t.Helper()
	obj, err := e.client.Tracker().Get(servicesGVR, "test", name)
	require.NoError(t, err)
	return obj.(*corev1.Service)
}

var podinfoTarget = Target{SelectorLabel: "app", SelectorValue: "podinfo", Owner: targetOwner}

// targetOwner is the owner reference to the target, podinfo.
var targetOwner = owners.Target("podinfo", "target-uid")
