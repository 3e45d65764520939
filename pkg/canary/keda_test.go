package canary

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// kedaFixture is a fixture whose controller also reaches ScaledObjects: a
// fake dynamic client for the writes and a lister that shows sos only.
type kedaFixture struct {
	*fixture
	dyn *dynamicfake.FakeDynamicClient
}

func newKEDAFixture(t *testing.T, sos []*unstructured.Unstructured, objs ...runtime.Object) *kedaFixture {
	t.Helper()
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	var dynObjs []runtime.Object
	for _, so := range sos {
		require.NoError(t, idx.Add(so))
		dynObjs = append(dynObjs, so.DeepCopy())
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{ScaledObjectResource: "ScaledObjectList"}, dynObjs...)
	f := newFixtureWith(t, func(cfg *Config) {
		cfg.ScaledObjects = &ScaledObjectStore{
			Client: dyn.Resource(ScaledObjectResource),
			Lister: cache.NewGenericLister(idx, ScaledObjectResource.GroupResource()),
		}
	}, objs...)
	return &kedaFixture{fixture: f, dyn: dyn}
}

// soWrites returns the mutating actions sent to the fake dynamic client.
func (f *kedaFixture) soWrites() []k8stesting.Action {
	var out []k8stesting.Action
	for _, a := range f.dyn.Actions() {
		switch a.GetVerb() {
		case "create", "update", "patch", "delete":
			out = append(out, a)
		}
	}
	return out
}

func (f *kedaFixture) scaledObject(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	so, err := f.dyn.Resource(ScaledObjectResource).Namespace(ns).Get(context.TODO(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return so
}

// newScaledObject is KEDA's docs' example for podinfo: a Prometheus trigger
// named by its metric, scaling the target between min and max.
func newScaledObject(name string, lo, hi int64, triggers ...map[string]any) *unstructured.Unstructured {
	if len(triggers) == 0 {
		triggers = []map[string]any{promTrigger("requests", `sum(rate(http_requests_total{app="podinfo"}[2m]))`)}
	}
	list := make([]any, len(triggers))
	for i, tr := range triggers {
		list[i] = tr
	}
	so := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1",
		"kind":       "ScaledObject",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"scaleTargetRef":  map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
			"pollingInterval": int64(10),
			"minReplicaCount": lo,
			"maxReplicaCount": hi,
			"triggers":        list,
		},
	}}
	return so
}

func promTrigger(name, query string) map[string]any {
	tr := map[string]any{"type": "prometheus", "metadata": map[string]any{
		"serverAddress": "http://prometheus.monitoring:9090", "query": query, "threshold": "100"}}
	if name != "" {
		tr["name"] = name
	}
	return tr
}

func withKEDARef(name string) canaryOpt {
	return func(cd *flaggerv1.Canary) {
		cd.Spec.AutoscalerRef = &flaggerv1.AutoscalerReference{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Name: name}
	}
}

// queries returns each trigger's query, by position.
func queries(t *testing.T, so *unstructured.Unstructured) []string {
	t.Helper()
	triggers, _, err := unstructured.NestedSlice(so.Object, "spec", "triggers")
	require.NoError(t, err)
	var out []string
	for _, tr := range triggers {
		q, _, _ := unstructured.NestedString(tr.(map[string]any), "metadata", "query")
		out = append(out, q)
	}
	return out
}

func TestNewPrimaryScaledObject(t *testing.T) {
	tests := []struct {
		name     string
		opts     []canaryOpt
		triggers []map[string]any
		queries  []string
		min, max int64
	}{
		{
			name: "queries name the primary, as in Flagger",
			triggers: []map[string]any{
				promTrigger("a", `sum(rate(http_requests_total{app="podinfo"}[2m]))`),
				promTrigger("", `sum(rate(http_requests_total{pod=~"podinfo-canary-.*"}[2m]))`),
				promTrigger("c", `sum(rate(http_requests_total{deployment="podinfo-primary"}[2m]))`),
				{"type": "cpu", "metadata": map[string]any{"value": "60"}},
			},
			queries: []string{`sum(rate(http_requests_total{app="podinfo-primary"}[2m]))`,
				`sum(rate(http_requests_total{pod=~"podinfo-primary-.*"}[2m]))`,
				`sum(rate(http_requests_total{deployment="podinfo-primary"}[2m]))`, ""},
			min: 1, max: 10,
		},
		{
			name: "primaryScalerQueries replace the named triggers' queries only",
			opts: []canaryOpt{func(cd *flaggerv1.Canary) {
				cd.Spec.AutoscalerRef.PrimaryScalerQueries = map[string]string{"a": "primary_a", "nope": "x", "": "unnamed"}
			}},
			triggers: []map[string]any{promTrigger("a", "target_a"), promTrigger("b", "podinfo_b"), promTrigger("", "podinfo")},
			queries:  []string{"primary_a", "podinfo_b", "podinfo"},
			min:      1, max: 10,
		},
		{
			name: "primaryScalerReplicas",
			opts: []canaryOpt{func(cd *flaggerv1.Canary) {
				cd.Spec.AutoscalerRef.PrimaryScalerReplicas = &flaggerv1.ScalerReplicas{
					MinReplicas: ptr.To[int32](3), MaxReplicas: ptr.To[int32](30)}
			}},
			queries: []string{`sum(rate(http_requests_total{app="podinfo-primary"}[2m]))`},
			min:     3, max: 30,
		},
		{
			name: "primaryScalerReplicas, max only",
			opts: []canaryOpt{func(cd *flaggerv1.Canary) {
				cd.Spec.AutoscalerRef.PrimaryScalerReplicas = &flaggerv1.ScalerReplicas{MaxReplicas: ptr.To[int32](20)}
			}},
			queries: []string{`sum(rate(http_requests_total{app="podinfo-primary"}[2m]))`},
			min:     1, max: 20,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so := newScaledObject("podinfo-so", 1, 10, tt.triggers...)
			before := so.DeepCopy()
			cd := newCanary(append([]canaryOpt{withKEDARef("podinfo-so")}, tt.opts...)...)

			got, err := NewPrimaryScaledObject(cd, so, podinfoOwner)
			require.NoError(t, err)
			assert.Equal(t, before, so, "the target's ScaledObject must not change")
			assert.Equal(t, "podinfo-so-primary", got.GetName())
			assert.Equal(t, ns, got.GetNamespace())
			assert.Equal(t, "keda.sh/v1alpha1", got.GetAPIVersion())
			assert.Equal(t, "ScaledObject", got.GetKind())
			ref, _, _ := unstructured.NestedStringMap(got.Object, "spec", "scaleTargetRef")
			assert.Equal(t, map[string]string{"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo-primary"}, ref)
			assert.Equal(t, tt.queries, queries(t, got))
			lo, _, _ := unstructured.NestedInt64(got.Object, "spec", "minReplicaCount")
			hi, _, _ := unstructured.NestedInt64(got.Object, "spec", "maxReplicaCount")
			assert.Equal(t, []int64{tt.min, tt.max}, []int64{lo, hi})
			poll, _, _ := unstructured.NestedInt64(got.Object, "spec", "pollingInterval")
			assert.Equal(t, int64(10), poll, "the rest of the spec is copied")
			assert.Equal(t, owners.Of(cd, podinfoOwner), got.GetOwnerReferences())
		})
	}

	t.Run("metadata and the HPA name", func(t *testing.T) {
		so := newScaledObject("podinfo-so", 1, 10)
		so.SetLabels(map[string]string{"team": "a", "kustomize.toolkit.fluxcd.io/name": "x"})
		so.SetAnnotations(map[string]string{PausedReplicasAnnotation: "0", "autoscaling.keda.sh/paused": "true",
			"scaledobject.keda.sh/transfer-hpa-ownership": "true", "kustomize.toolkit.fluxcd.io/checksum": "x"})
		require.NoError(t, unstructured.SetNestedField(so.Object, "podinfo-hpa", "spec", "advanced", "horizontalPodAutoscalerConfig", "name"))

		got, err := NewPrimaryScaledObject(newCanary(withKEDARef("podinfo-so")), so, podinfoOwner)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"team": "a"}, got.GetLabels())
		assert.Equal(t, map[string]string{"scaledobject.keda.sh/transfer-hpa-ownership": "true"}, got.GetAnnotations(),
			"a primary copied from a paused target must not be paused")
		name, _, _ := unstructured.NestedString(got.Object, "spec", "advanced", "horizontalPodAutoscalerConfig", "name")
		assert.Equal(t, "podinfo-hpa-primary", name)
	})

	t.Run("bad spec", func(t *testing.T) {
		so := newScaledObject("podinfo-so", 1, 10)
		require.NoError(t, unstructured.SetNestedField(so.Object, "x", "spec", "triggers"))
		_, err := NewPrimaryScaledObject(newCanary(withKEDARef("podinfo-so")), so, podinfoOwner)
		require.ErrorContains(t, err, "ScaledObject podinfo-so.test: spec.triggers is not a list")

		delete(so.Object, "spec")
		_, err = NewPrimaryScaledObject(newCanary(withKEDARef("podinfo-so")), so, podinfoOwner)
		require.ErrorContains(t, err, "spec is not an object")
	})
}

func TestReconcilePrimaryScaledObject(t *testing.T) {
	ctx := context.TODO()
	cd := newCanary(withKEDARef("podinfo"))
	so := newScaledObject("podinfo", 1, 10)
	current, err := NewPrimaryScaledObject(cd, so, podinfoOwner)
	require.NoError(t, err)
	stale, err := NewPrimaryScaledObject(cd, newScaledObject("podinfo", 1, 5), podinfoOwner)
	require.NoError(t, err)
	oldOwners := canaryOwnedOnly(current.DeepCopy())

	tests := []struct {
		name   string
		sos    []*unstructured.Unstructured
		update bool
		writes []string
		max    int64
		owners int
	}{
		{"create", []*unstructured.Unstructured{so}, false, []string{"create"}, 10, 2},
		{"stale, no update outside Promoting", []*unstructured.Unstructured{so, stale}, false, nil, 5, 2},
		{"stale, update while promoting", []*unstructured.Unstructured{so, stale}, true, []string{"update"}, 10, 2},
		{"current", []*unstructured.Unstructured{so, current}, true, nil, 10, 2},
		{"made by Flagger: the target becomes an owner", []*unstructured.Unstructured{so, oldOwners}, false, []string{"update"}, 10, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newKEDAFixture(t, tt.sos, newDeployment("podinfo"))
			require.NoError(t, f.ctrl.ReconcilePrimaryHPA(ctx, cd, tt.update))
			var verbs []string
			for _, a := range f.soWrites() {
				verbs = append(verbs, a.GetVerb())
			}
			assert.Equal(t, tt.writes, verbs)
			assert.Empty(t, f.writes(), "no HorizontalPodAutoscaler is written")
			got := f.scaledObject(t, "podinfo-primary")
			hi, _, _ := unstructured.NestedInt64(got.Object, "spec", "maxReplicaCount")
			assert.Equal(t, tt.max, hi)
			assert.Len(t, got.GetOwnerReferences(), tt.owners)
		})
	}

	t.Run("missing target ScaledObject", func(t *testing.T) {
		f := newKEDAFixture(t, nil, newDeployment("podinfo"))
		require.ErrorContains(t, f.ctrl.ReconcilePrimaryHPA(ctx, cd, false), "ScaledObject podinfo.test get query error")
		assert.Empty(t, f.soWrites())
	})
}

func TestTargetScalerPause(t *testing.T) {
	ctx := context.TODO()
	paused := func(value string) *unstructured.Unstructured {
		so := newScaledObject("podinfo", 1, 10)
		so.SetAnnotations(map[string]string{PausedReplicasAnnotation: value, "keep": "me"})
		return so
	}
	tests := []struct {
		name   string
		so     *unstructured.Unstructured
		pause  bool
		writes int
		want   map[string]string
	}{
		{"pause", newScaledObject("podinfo", 1, 10), true, 1, map[string]string{PausedReplicasAnnotation: "0"}},
		{"already paused at zero", paused("0"), true, 0, map[string]string{PausedReplicasAnnotation: "0", "keep": "me"}},
		{"paused at three by hand", paused("3"), true, 1, map[string]string{PausedReplicasAnnotation: "0", "keep": "me"}},
		{"resume", paused("0"), false, 1, map[string]string{"keep": "me"}},
		{"not paused", newScaledObject("podinfo", 1, 10), false, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newKEDAFixture(t, []*unstructured.Unstructured{tt.so})
			cd := newCanary(withKEDARef("podinfo"))
			if tt.pause {
				require.NoError(t, f.ctrl.PauseTargetScaler(ctx, cd))
			} else {
				require.NoError(t, f.ctrl.ResumeTargetScaler(ctx, cd))
			}
			require.Len(t, f.soWrites(), tt.writes)
			for _, a := range f.soWrites() {
				assert.Equal(t, "patch", a.GetVerb(), "a merge patch of the annotation, no read-modify-write")
			}
			assert.Equal(t, tt.want, f.scaledObject(t, "podinfo").GetAnnotations())
		})
	}

	t.Run("nothing to do", func(t *testing.T) {
		f := newKEDAFixture(t, nil)
		assert.NoError(t, f.ctrl.ResumeTargetScaler(ctx, newCanary(withKEDARef("podinfo"))), "a missing ScaledObject has no pause")
		assert.NoError(t, f.ctrl.PauseTargetScaler(ctx, newCanary(withHPARef("podinfo"))), "an HPA is not paused")
		assert.NoError(t, f.ctrl.PauseTargetScaler(ctx, newCanary()))
		assert.Empty(t, f.soWrites())
		assert.ErrorContains(t, f.ctrl.PauseTargetScaler(ctx, newCanary(withKEDARef("podinfo"))),
			"ScaledObject podinfo.test get query error")

		noKEDA := newFixture(t)
		assert.NoError(t, noKEDA.ctrl.ResumeTargetScaler(ctx, newCanary(withKEDARef("podinfo"))),
			"without KEDA a deleted canary has nothing to resume")
		assert.ErrorIs(t, noKEDA.ctrl.PauseTargetScaler(ctx, newCanary(withKEDARef("podinfo"))), ErrKEDANotInstalled)
	})
}

func TestScaleFromZeroScaledObject(t *testing.T) {
	ctx := context.TODO()
	tests := []struct {
		name string
		min  int64
		want int32
	}{
		{"minReplicaCount above one", 3, 3},
		{"minReplicaCount zero", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newKEDAFixture(t, []*unstructured.Unstructured{newScaledObject("podinfo", tt.min, 10)},
				newDeployment("podinfo", withReplicas(0)), newDeployment("podinfo-primary", withReplicas(5)))
			require.NoError(t, f.ctrl.ScaleFromZero(ctx, newCanary(withKEDARef("podinfo"))))
			assert.Equal(t, tt.want, *f.deployment(t, "podinfo").Spec.Replicas)
		})
	}
}

func TestRewriteOwnersScaledObject(t *testing.T) {
	cd := newCanary(withKEDARef("podinfo"))
	primary, err := NewPrimaryScaledObject(cd, newScaledObject("podinfo", 1, 10), podinfoOwner)
	require.NoError(t, err)
	f := newKEDAFixture(t, []*unstructured.Unstructured{newScaledObject("podinfo", 1, 10), primary})
	require.NoError(t, f.ctrl.RewriteOwners(context.TODO(), cd, owners.RemoveTarget("podinfo")))
	got := f.scaledObject(t, "podinfo-primary")
	assert.Equal(t, []metav1.OwnerReference{owners.Canary(cd)}, got.GetOwnerReferences())
	assert.Empty(t, f.scaledObject(t, "podinfo").GetOwnerReferences(), "the target's is not the canary's")
}

func TestRevisionWithoutKEDA(t *testing.T) {
	f := newFixtureWith(t, func(cfg *Config) { cfg.DisableConfigTracking = true }, newDeployment("podinfo"))
	_, err := f.ctrl.Revision(context.TODO(), newCanary(withKEDARef("podinfo")))
	require.ErrorIs(t, err, ErrKEDANotInstalled, "refused when first observed, before any write")
	assert.True(t, syncerr.IsPermanent(err))

	k := newKEDAFixture(t, nil, newDeployment("podinfo"))
	_, err = k.ctrl.Revision(context.TODO(), newCanary(withKEDARef("podinfo")))
	assert.NoError(t, err)
}
