package telemetry

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	listers "github.com/serin-dev/serin/pkg/client/listers/flagger/v1beta1"
)

// newCanary returns a canary of target podinfo, changed by opts.
func newCanary(namespace, name string, opts ...func(*flaggerv1.Canary)) *flaggerv1.Canary {
	c := &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: flaggerv1.CanarySpec{
			TargetRef: flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Analysis:  &flaggerv1.CanaryAnalysis{StepWeight: 10, MaxWeight: 50},
		},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func withTarget(name string) func(*flaggerv1.Canary) {
	return func(c *flaggerv1.Canary) { c.Spec.TargetRef.Name = name }
}

func withPhase(p flaggerv1.CanaryPhase, canaryWeight int) func(*flaggerv1.Canary) {
	return func(c *flaggerv1.Canary) {
		c.Status.Phase = p
		c.Status.CanaryWeight = canaryWeight
	}
}

func withIterations(n int, match bool) func(*flaggerv1.Canary) {
	return func(c *flaggerv1.Canary) {
		c.Spec.Analysis = &flaggerv1.CanaryAnalysis{Iterations: n}
		if match {
			c.Spec.Analysis.Match = []flaggerv1.HTTPMatchRequest{{}}
		}
	}
}

// newLister returns a canary lister over an indexer holding canaries.
func newLister(t *testing.T, canaries ...*flaggerv1.Canary) (listers.CanaryLister, cache.Indexer) {
	t.Helper()
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, c := range canaries {
		if err := idx.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	return listers.NewCanaryLister(idx), idx
}
