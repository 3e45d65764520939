package operator

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/canary"
)

// newScaledObjects watches KEDA's ScaledObjects when the cluster serves
// them, and returns nils when it does not: KEDA is optional, and a canary
// whose autoscalerRef is a ScaledObject is then refused with a condition
// and an event (canary.ErrKEDANotInstalled), while the others run. Like the
// route versions, this is decided once at start: KEDA installed later needs
// a restart of Serin.
func newScaledObjects(rc *rest.Config, disc discovery.DiscoveryInterface, namespace string) (
	*canary.ScaledObjectStore, cache.SharedIndexInformer, func(<-chan struct{}), error) {
	gvr := canary.ScaledObjectResource
	list, err := disc.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if err != nil || !hasResource(list.APIResources, gvr.Resource) {
		return nil, nil, nil, nil
	}
	client, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, nil, nil, err
	}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 0, namespace, nil)
	informer := factory.ForResource(gvr)
	if err := informer.Informer().SetTransform(stripManagedFields); err != nil {
		return nil, nil, nil, err
	}
	store := &canary.ScaledObjectStore{Client: client.Resource(gvr), Lister: informer.Lister()}
	return store, informer.Informer(), factory.Start, nil
}

// hasResource reports whether resources lists name.
func hasResource(resources []metav1.APIResource, name string) bool {
	for _, r := range resources {
		if r.Name == name {
			return true
		}
	}
	return false
}
