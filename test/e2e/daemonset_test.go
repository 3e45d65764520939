package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	serincanary "github.com/serin-dev/serin/pkg/canary"
	"github.com/serin-dev/serin/test/lib/manifest"
	"github.com/serin-dev/serin/test/lib/metricsexporter"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestDaemonSet releases a DaemonSet target end to end, as Flagger does:
// the kube-controller-manager's DaemonSet controller runs one pod per KWOK
// node for the target and for podinfo-primary; the target is scaled to
// zero by the scale-to-zero node selector between runs; a healthy revision
// is promoted, one answering errors is rolled back.
func TestDaemonSet(t *testing.T) {
	t.Parallel()
	const ns = "test-daemonset"
	ctx := t.Context()
	require.NoError(t, ensureNamespace(ctx, ns))
	env.exporter.Set(ns, "podinfo", healthy)
	env.exporter.Set(ns, "podinfo-primary", healthy)
	objs, err := manifest.ReadFiles(filepath.Join("testdata", "podinfo-daemonset.yaml"))
	require.NoError(t, err)
	for _, obj := range objs {
		obj.SetNamespace(ns)
		require.NoError(t, apply(ctx, obj))
	}
	require.NoError(t, apply(ctx, seed(t, "podinfo-canary.yaml", ns,
		set("DaemonSet", "spec", "targetRef", "kind"),
		unset("spec", "autoscalerRef"),
		set(int64(2), "spec", "analysis", "threshold"),
		shortLadder(),
	)))
	waitPhase(t, ns, flaggerv1.CanaryPhaseInitialized, 2*time.Minute)

	nodes := int32(len(env.cluster.Nodes))
	waitDaemonSet(t, ns, "podinfo-primary", "a ready pod on every node", func(ds *appsv1.DaemonSet) bool {
		return ds.Status.NumberReady == nodes && ds.Status.UpdatedNumberScheduled == nodes
	})
	waitDaemonSet(t, ns, "podinfo", "scaled to zero, no pod left", func(ds *appsv1.DaemonSet) bool {
		return serincanary.ScaledToZero(ds) && ds.Status.CurrentNumberScheduled == 0 && ds.Status.NumberMisscheduled == 0
	})
	primary := daemonSet(t, ns, "podinfo-primary")
	target := daemonSet(t, ns, "podinfo")
	assert.Contains(t, primary.OwnerReferences, metav1.OwnerReference{APIVersion: "apps/v1", Kind: "DaemonSet",
		Name: "podinfo", UID: target.UID}, "owned by the target, of its kind, so that the garbage collector finds it")
	assert.Equal(t, map[string]string{"app": "podinfo-primary"}, primary.Spec.Selector.MatchLabels)
	assert.Empty(t, primary.Spec.Template.Spec.NodeSelector, "the primary never gets the scale-to-zero node selector")
	assert.Equal(t, "podinfo-config-primary", primary.Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name,
		"config tracking as for Deployments")

	// Promotion.
	setDaemonSetImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 3*time.Minute)
	requireEvents(t, ns,
		"New revision detected! Scaling up podinfo."+ns,
		"Advance podinfo."+ns+" canary weight 50",
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Promotion completed! Scaling down podinfo."+ns,
	)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", daemonSet(t, ns, "podinfo-primary").Spec.Template.Spec.Containers[0].Image)
	waitDaemonSet(t, ns, "podinfo-primary", "the promoted template on every node", func(ds *appsv1.DaemonSet) bool {
		return ds.Generation == ds.Status.ObservedGeneration && ds.Status.UpdatedNumberScheduled == nodes &&
			ds.Status.NumberAvailable == nodes
	})
	waitDaemonSet(t, ns, "podinfo", "scaled to zero again", serincanary.ScaledToZero)

	// Rollback.
	env.exporter.Set(ns, "podinfo", metricsexporter.Traffic{RPS: 20, ErrorRatio: 0.6, Latency: 20 * time.Millisecond})
	setDaemonSetImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.2")
	waitPhase(t, ns, flaggerv1.CanaryPhaseFailed, 3*time.Minute)
	requireEvents(t, ns,
		"Rolling back podinfo."+ns+" failed checks threshold reached 2",
		"Canary failed! Scaling down podinfo."+ns,
	)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", daemonSet(t, ns, "podinfo-primary").Spec.Template.Spec.Containers[0].Image,
		"the primary keeps the promoted revision")
	waitDaemonSet(t, ns, "podinfo", "scaled to zero after the rollback", serincanary.ScaledToZero)
	route, err := env.gateway.GatewayV1().HTTPRoutes(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	for _, b := range route.Spec.Rules[0].BackendRefs {
		want := int32(0)
		if b.Name == "podinfo-primary" {
			want = 100
		}
		assert.Equal(t, want, *b.Weight, string(b.Name))
	}

	// Deleted without revertOnDeletion: the garbage collector drops the
	// Canary from the owners and keeps what it created, whose other owner,
	// the target DaemonSet, exists.
	require.NoError(t, env.flagger.FlaggerV1beta1().Canaries(ns).Delete(ctx, "podinfo", metav1.DeleteOptions{}))
	must.Eventually(t, time.Minute, 500*time.Millisecond, func() (bool, error) {
		primary, err := env.kube.AppsV1().DaemonSets(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		svc, err := env.kube.CoreV1().Services(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for what, refs := range map[string][]metav1.OwnerReference{"primary": primary.OwnerReferences, "apex service": svc.OwnerReferences} {
			if len(refs) != 1 || refs[0].Kind != "DaemonSet" || refs[0].UID != target.UID {
				return false, fmt.Errorf("%s owners %v", what, refs)
			}
		}
		if primary.Status.NumberReady != nodes {
			return false, fmt.Errorf("primary has %d ready pods", primary.Status.NumberReady)
		}
		return true, nil
	}, "the primary and the apex Service to be the target's alone, and serving")
}

// daemonSet reads a DaemonSet.
func daemonSet(t *testing.T, namespace, name string) *appsv1.DaemonSet {
	t.Helper()
	ds, err := env.kube.AppsV1().DaemonSets(namespace).Get(t.Context(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return ds
}

// waitDaemonSet waits until cond holds for a DaemonSet.
func waitDaemonSet(t *testing.T, namespace, name, what string, cond func(*appsv1.DaemonSet) bool) {
	t.Helper()
	must.Eventually(t, 2*time.Minute, 250*time.Millisecond, func() (bool, error) {
		ds, err := env.kube.AppsV1().DaemonSets(namespace).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if !cond(ds) {
			return false, fmt.Errorf("generation %d/%d, node selector %v, status %+v", ds.Status.ObservedGeneration,
				ds.Generation, ds.Spec.Template.Spec.NodeSelector, ds.Status)
		}
		return true, nil
	}, "daemonset %s/%s: %s", namespace, name, what)
}

// setDaemonSetImage is setImage for the DaemonSet target.
func setDaemonSetImage(t *testing.T, namespace, image string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"podinfod","image":%q}]}}}}`, image)
	_, err := env.kube.AppsV1().DaemonSets(namespace).Patch(t.Context(), "podinfo",
		"application/strategic-merge-patch+json", []byte(patch), metav1.PatchOptions{})
	require.NoError(t, err)
}
