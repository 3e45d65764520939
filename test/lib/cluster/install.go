package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// install installs the manifests, if any.
func (c *Cluster) install(ctx context.Context, opts Options, objs *manifests) error {
	if len(objs.crds) == 0 && len(objs.others) == 0 {
		return nil
	}
	began := time.Now()
	if err := objs.install(ctx, c.Config, setupTimeout); err != nil {
		return c.withLogs(err, "kube-apiserver")
	}
	opts.logf("cluster: %d CRDs and %d other objects installed in %s", len(objs.crds), len(objs.others), since(began))
	return nil
}

// install creates the CRDs, waits until they are usable, then creates the other objects.
func (m *manifests) install(ctx context.Context, cfg *rest.Config, timeout time.Duration) error {
	if len(m.crds) > 0 {
		if err := installCRDs(ctx, cfg, m.crds, timeout); err != nil {
			return err
		}
	}
	if len(m.others) > 0 {
		return m.installOthers(ctx, cfg)
	}
	return nil
}

// installCRDs creates crds and waits until each is Established with its names accepted and
// every served version is listed by discovery: only then can clients and informers use it.
// It then warms the resources up and waits out the API server's create delay for new CRDs, so
// that first requests in tests are as fast as later ones.
func installCRDs(ctx context.Context, cfg *rest.Config, crds []*apiextensionsv1.CustomResourceDefinition, timeout time.Duration) error {
	cs, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return err
	}
	for _, crd := range crds {
		if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating CustomResourceDefinition %s: %w", crd.Name, err)
		}
	}
	pending := slices.Clone(crds)
	var established time.Time
	err = pollUntil(ctx, timeout, func() (bool, error) {
		for len(pending) > 0 {
			at, err := crdUsable(ctx, cs, pending[0])
			if err != nil {
				return false, err
			}
			established = latest(established, at)
			pending = pending[1:]
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %d CustomResourceDefinitions: %w", len(pending), err)
	}
	if err := warmCRDs(ctx, cfg, crds); err != nil {
		return err
	}
	return sleepCtx(ctx, time.Until(established.Add(createGrace)))
}

// createGrace is how long after a CRD became Established the API server makes every create
// of its objects sleep 2 s (so that the other API servers of an HA cluster catch up; see
// crdHandler.serveResource in k8s.io/apiextensions-apiserver). Waiting it out once here spares
// each test's first create of each kind those 2 s. The server measures from the same
// whole-second LastTransitionTime that the harness reads.
const createGrace = 2*time.Second + 10*time.Millisecond

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sleepCtx sleeps for d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// warmCRDs lists every custom resource once, in parallel. The first request to a freshly
// installed resource sets up its storage and watch cache; right after the Gateway API CRDs
// were installed that first LIST took 1 s for most of them (then 1 ms). Paid here, in
// parallel, it costs about 0.2 s instead of a second per kind inside the tests.
func warmCRDs(ctx context.Context, cfg *rest.Config, crds []*apiextensionsv1.CustomResourceDefinition) error {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	lists := make([]func() error, len(crds))
	for i, crd := range crds {
		lists[i] = func() error {
			gvr := schema.GroupVersionResource{Group: crd.Spec.Group, Version: servedVersion(crd), Resource: crd.Spec.Names.Plural}
			if _, err := client.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
				return fmt.Errorf("listing %s: %w", gvr, err)
			}
			return nil
		}
	}
	return parallel(lists...)
}

// servedVersion returns the storage version of crd, which is always served.
func servedVersion(crd *apiextensionsv1.CustomResourceDefinition) string {
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			return v.Name
		}
	}
	return crd.Spec.Versions[0].Name
}

// crdUsable reports when crd became Established once it is Established, its names are
// accepted and discovery lists its resource in every served version, and otherwise an error
// saying what is missing.
func crdUsable(ctx context.Context, cs apiextensionsclient.Interface, crd *apiextensionsv1.CustomResourceDefinition) (time.Time, error) {
	got, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
	if err != nil {
		return time.Time{}, err
	}
	var established time.Time
	for _, t := range []apiextensionsv1.CustomResourceDefinitionConditionType{apiextensionsv1.Established, apiextensionsv1.NamesAccepted} {
		c := crdCondition(got, t)
		if c == nil || c.Status != apiextensionsv1.ConditionTrue {
			return time.Time{}, fmt.Errorf("CustomResourceDefinition %s is not %s yet", crd.Name, t)
		}
		if t == apiextensionsv1.Established {
			established = c.LastTransitionTime.Time
		}
	}
	for _, v := range got.Spec.Versions {
		if !v.Served {
			continue
		}
		gv := got.Spec.Group + "/" + v.Name
		list, err := cs.Discovery().ServerResourcesForGroupVersion(gv)
		if err != nil {
			return time.Time{}, fmt.Errorf("discovery of %s: %w", gv, err)
		}
		if !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == got.Spec.Names.Plural }) {
			return time.Time{}, fmt.Errorf("discovery does not list %s in %s yet", got.Spec.Names.Plural, gv)
		}
	}
	return established, nil
}

func crdCondition(crd *apiextensionsv1.CustomResourceDefinition, t apiextensionsv1.CustomResourceDefinitionConditionType) *apiextensionsv1.CustomResourceDefinitionCondition {
	for i := range crd.Status.Conditions {
		if crd.Status.Conditions[i].Type == t {
			return &crd.Status.Conditions[i]
		}
	}
	return nil
}

// installOthers creates the non-CRD objects with the dynamic client, mapping kinds to
// resources through discovery (which by now includes the CRDs just installed).
func (m *manifests) installOthers(ctx context.Context, cfg *rest.Config) error {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	groups, err := restmapper.GetAPIGroupResources(dc)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	for _, obj := range m.others {
		gvk := obj.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
		}
		var ri dynamic.ResourceInterface = client.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			ns := obj.GetNamespace()
			if ns == "" {
				ns = metav1.NamespaceDefault
			}
			ri = client.Resource(mapping.Resource).Namespace(ns)
		}
		if _, err := ri.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating %s %s: %w", gvk.Kind, obj.GetName(), err)
		}
	}
	return nil
}
