package canary

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	appslisters "k8s.io/client-go/listers/apps/v1"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	corelisters "k8s.io/client-go/listers/core/v1"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// baselineWorld is a fake clientset whose listers catch up with it on
// sync, as informers do between two ticks, and a Deployment controller
// (rollOut) that finishes every rollout at once.
type baselineWorld struct {
	kube       *fake.Clientset
	deps, svcs cache.Indexer
	b          *Baselines
	// faulty is set when a write is made to fail (failOnce): a call may
	// then return that error instead of a *NotReadyError.
	faulty bool
}

func newBaselineWorld(t *testing.T, objs ...runtime.Object) *baselineWorld {
	t.Helper()
	idx := func() cache.Indexer {
		return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	w := &baselineWorld{kube: fake.NewClientset(objs...), deps: idx(), svcs: idx()}
	d, err := NewDeployments(Config{
		KubeClient:            w.kube,
		Deployments:           appslisters.NewDeploymentLister(w.deps),
		HPAs:                  autoscalinglisters.NewHorizontalPodAutoscalerLister(idx()),
		DisableConfigTracking: true,
		Clock:                 testingclock.NewFakePassiveClock(testNow),
	})
	require.NoError(t, err)
	w.b = d.Baselines(corelisters.NewServiceLister(w.svcs))
	w.sync(t)
	w.kube.ClearActions()
	return w
}

// newBaselineCluster is a canary's cluster in the middle of a run: the
// target at a new version, the primary and its Service.
func newBaselineCluster(t *testing.T, extra ...runtime.Object) *baselineWorld {
	target := newDeployment("podinfo", withReplicas(3), withPodSpec(func(s *corev1.PodSpec) { s.Containers[0].Image = "podinfo:6.1.0" }))
	objs := append([]runtime.Object{target, newPrimaryOf("podinfo:6.0.0"), newPrimaryService()}, extra...)
	return newBaselineWorld(t, objs...)
}

// sync makes the listers show what the clientset holds.
func (w *baselineWorld) sync(t *testing.T) {
	t.Helper()
	deps, err := w.kube.AppsV1().Deployments(ns).List(context.TODO(), metav1.ListOptions{})
	require.NoError(t, err)
	svcs, err := w.kube.CoreV1().Services(ns).List(context.TODO(), metav1.ListOptions{})
	require.NoError(t, err)
	var depObjs, svcObjs []any
	for i := range deps.Items {
		depObjs = append(depObjs, &deps.Items[i])
	}
	for i := range svcs.Items {
		svcObjs = append(svcObjs, &svcs.Items[i])
	}
	require.NoError(t, w.deps.Replace(depObjs, ""))
	require.NoError(t, w.svcs.Replace(svcObjs, ""))
}

// rollOut plays the Deployment controller: every Deployment's status shows
// its spec rolled out, then the listers catch up.
func (w *baselineWorld) rollOut(t *testing.T) {
	t.Helper()
	deps, err := w.kube.AppsV1().Deployments(ns).List(context.TODO(), metav1.ListOptions{})
	require.NoError(t, err)
	for i := range deps.Items {
		d := &deps.Items[i]
		r := ptr.Deref(d.Spec.Replicas, 1)
		d.Generation = max(d.Generation, 1)
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: r, UpdatedReplicas: r, AvailableReplicas: r, ReadyReplicas: r}
		require.NoError(t, w.kube.Tracker().Update(appsv1.SchemeGroupVersion.WithResource("deployments"), d, ns))
	}
	w.sync(t)
}

// writes counts the mutating actions sent to the clientset.
func (w *baselineWorld) writes() int {
	n := 0
	for _, a := range w.kube.Actions() {
		switch a.GetVerb() {
		case "create", "update", "patch", "delete":
			n++
		}
	}
	return n
}

func (w *baselineWorld) baseline(t *testing.T) (*appsv1.Deployment, *corev1.Service) {
	t.Helper()
	dep, err := w.kube.AppsV1().Deployments(ns).Get(context.TODO(), "podinfo-baseline", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		dep = nil
	} else {
		require.NoError(t, err)
	}
	svc, err := w.kube.CoreV1().Services(ns).Get(context.TODO(), "podinfo-baseline", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		svc = nil
	} else {
		require.NoError(t, err)
	}
	return dep, svc
}

// ensureReady calls EnsureBaseline, letting the cluster roll out between
// calls, until the baseline is ready; it returns the calls it took.
func (w *baselineWorld) ensureReady(t *testing.T, cd *flaggerv1.Canary) int {
	t.Helper()
	for calls := 1; calls <= 10; calls++ {
		err := w.b.EnsureBaseline(context.TODO(), cd)
		w.rollOut(t)
		if err == nil {
			return calls
		}
		var nre *NotReadyError
		if !w.faulty {
			require.ErrorAs(t, err, &nre)
		}
	}
	t.Fatal("the baseline never became ready")
	return 0
}

// judgeCanary is a canary in a run of revision "rev-1" with a baseline.
func judgeCanary(opts ...canaryOpt) *flaggerv1.Canary {
	return newCanary(append([]canaryOpt{func(cd *flaggerv1.Canary) {
		cd.Spec.Analysis.Judge = &flaggerv1.CanaryJudge{Baseline: true}
		cd.Status.Phase = flaggerv1.CanaryPhaseProgressing
		cd.Status.LastAppliedSpec = "rev-1"
	}}, opts...)...)
}

func TestEnsureBaseline(t *testing.T) {
	ctx := context.TODO()
	w := newBaselineCluster(t)
	cd := judgeCanary()

	err := w.b.EnsureBaseline(ctx, cd)
	var nre *NotReadyError
	require.ErrorAs(t, err, &nre, "just created: not ready")
	assert.Equal(t, 2, w.writes(), "the Service and the Deployment")
	dep, svc := w.baseline(t)
	require.NotNil(t, dep)
	require.NotNil(t, svc)
	assert.Equal(t, "podinfo:6.0.0", dep.Spec.Template.Spec.Containers[0].Image, "the primary's version")
	assert.Equal(t, int32(3), *dep.Spec.Replicas, "the target's replicas")
	assert.Equal(t, "rev-1", dep.Spec.Template.Annotations[BaselineRunAnnotation])
	assert.NotEmpty(t, dep.Annotations[BaselineTemplateAnnotation])
	assert.Equal(t, map[string]string{"app": "podinfo-baseline"}, svc.Spec.Selector)

	// The listers lag behind the creates: AlreadyExists is taken as done.
	require.ErrorAs(t, w.b.EnsureBaseline(ctx, cd), &nre)

	w.sync(t)
	require.ErrorAs(t, w.b.BaselineReady(cd), &nre, "created, not rolled out")
	assert.Contains(t, nre.Error(), "baseline deployment podinfo-baseline.test not ready")
	w.rollOut(t)
	require.NoError(t, w.b.EnsureBaseline(ctx, cd))
	require.NoError(t, w.b.BaselineReady(cd))
	assert.Equal(t, 4, w.writes(), "two creates, the same two refused as AlreadyExists, then no write")

	t.Run("re-created after deletion", func(t *testing.T) {
		require.NoError(t, w.kube.AppsV1().Deployments(ns).Delete(ctx, "podinfo-baseline", metav1.DeleteOptions{}))
		require.NoError(t, w.kube.CoreV1().Services(ns).Delete(ctx, "podinfo-baseline", metav1.DeleteOptions{}))
		w.sync(t)
		require.ErrorAs(t, w.b.BaselineReady(cd), &nre)
		assert.Equal(t, 2, w.ensureReady(t, cd))
		dep, svc := w.baseline(t)
		assert.NotNil(t, dep)
		assert.NotNil(t, svc)
	})

	t.Run("replicas follow the canary", func(t *testing.T) {
		for _, replicas := range []int32{5, 1, 0} {
			target, err := w.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo", metav1.GetOptions{})
			require.NoError(t, err)
			target.Spec.Replicas = ptr.To(replicas)
			_, err = w.kube.AppsV1().Deployments(ns).Update(ctx, target, metav1.UpdateOptions{})
			require.NoError(t, err)
			w.rollOut(t)
			w.ensureReady(t, cd)
			dep, _ := w.baseline(t)
			assert.Equal(t, max(replicas, 1), *dep.Spec.Replicas)
		}
	})

	t.Run("a new run starts fresh pods", func(t *testing.T) {
		next := judgeCanary(func(cd *flaggerv1.Canary) { cd.Status.LastAppliedSpec = "rev-2" })
		require.ErrorAs(t, w.b.BaselineReady(next), &nre)
		assert.Contains(t, nre.Error(), "started for another run")
		w.ensureReady(t, next)
		dep, _ := w.baseline(t)
		assert.Equal(t, "rev-2", dep.Spec.Template.Annotations[BaselineRunAnnotation])
	})

	t.Run("the primary's template is followed", func(t *testing.T) {
		primary, err := w.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
		require.NoError(t, err)
		primary.Spec.Template.Spec.Containers[0].Image = "podinfo:6.0.1"
		_, err = w.kube.AppsV1().Deployments(ns).Update(ctx, primary, metav1.UpdateOptions{})
		require.NoError(t, err)
		w.rollOut(t)
		w.ensureReady(t, cd)
		dep, _ := w.baseline(t)
		assert.Equal(t, "podinfo:6.0.1", dep.Spec.Template.Spec.Containers[0].Image)
	})
}

func TestEnsureBaselineCorrectsDrift(t *testing.T) {
	tests := []struct {
		name   string
		drift  func(*appsv1.Deployment, *corev1.Service)
		writes int
	}{
		{"image edited", func(d *appsv1.Deployment, _ *corev1.Service) { d.Spec.Template.Spec.Containers[0].Image = "evil" }, 1},
		{"scaled by hand", func(d *appsv1.Deployment, _ *corev1.Service) { d.Spec.Replicas = ptr.To[int32](9) }, 1},
		{"run annotation removed", func(d *appsv1.Deployment, _ *corev1.Service) {
			delete(d.Spec.Template.Annotations, BaselineRunAnnotation)
		}, 1},
		{"service selector", func(_ *appsv1.Deployment, s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "podinfo"} }, 1},
		{"service port", func(_ *appsv1.Deployment, s *corev1.Service) { s.Spec.Ports[0].Port = 80 }, 1},
		// The selector is immutable: delete, then create on the next call.
		{"selector", func(d *appsv1.Deployment, _ *corev1.Service) {
			d.Spec.Selector.MatchLabels["app"] = "other"
			d.Spec.Template.Labels["app"] = "other"
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newBaselineCluster(t)
			cd := judgeCanary()
			w.ensureReady(t, cd)
			want, wantSvc := w.baseline(t)
			before := w.writes()

			dep, svc := w.baseline(t)
			tt.drift(dep, svc)
			require.NoError(t, w.kube.Tracker().Update(appsv1.SchemeGroupVersion.WithResource("deployments"), dep, ns))
			require.NoError(t, w.kube.Tracker().Update(corev1.SchemeGroupVersion.WithResource("services"), svc, ns))
			w.sync(t)

			w.ensureReady(t, cd)
			assert.Equal(t, tt.writes, w.writes()-before)
			got, gotSvc := w.baseline(t)
			assert.Equal(t, want.Spec.Template, got.Spec.Template)
			assert.Equal(t, want.Spec.Replicas, got.Spec.Replicas)
			assert.Equal(t, want.Spec.Selector, got.Spec.Selector)
			assert.Equal(t, wantSvc.Spec, gotSvc.Spec)
		})
	}
}

func TestBaselineLeavesOthersObjectsAlone(t *testing.T) {
	ctx := context.TODO()
	foreign := newDeployment("podinfo-baseline")
	foreignSvc := newPrimaryService(func(s *corev1.Service) { s.Name = "podinfo-baseline"; s.UID = "foreign" })
	w := newBaselineCluster(t, foreign, foreignSvc)
	cd := judgeCanary()

	err := w.b.EnsureBaseline(ctx, cd)
	require.ErrorIs(t, err, ErrNotControlled)
	assert.Contains(t, err.Error(), "service podinfo-baseline.test exists and is not controlled by the canary")

	cd.Spec.Analysis.Judge = nil
	require.NoError(t, w.b.RemoveBaseline(ctx, cd))
	assert.Zero(t, w.writes())
	dep, svc := w.baseline(t)
	assert.NotNil(t, dep)
	assert.NotNil(t, svc)
}

func TestRemoveBaseline(t *testing.T) {
	ctx := context.TODO()
	deleted := func(revert bool) *flaggerv1.Canary {
		return judgeCanary(func(cd *flaggerv1.Canary) {
			cd.DeletionTimestamp = ptr.To(metav1.NewTime(testNow))
			cd.Spec.RevertOnDeletion = revert
		})
	}
	tests := []struct {
		name        string
		cd          *flaggerv1.Canary
		keepService bool
	}{
		{"between runs: the Service stays for the route", judgeCanary(func(cd *flaggerv1.Canary) {
			cd.Status.Phase = flaggerv1.CanaryPhaseSucceeded
		}), true},
		{"judge turned off", newCanary(), false},
		{"analysis removed", newCanary(func(cd *flaggerv1.Canary) { cd.Spec.Analysis = nil }), false},
		{"canary deleted with revertOnDeletion: the route goes", deleted(true), false},
		{"canary deleted without: the route stays with the target", deleted(false), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newBaselineCluster(t)
			w.ensureReady(t, judgeCanary())

			require.NoError(t, w.b.RemoveBaseline(ctx, tt.cd))
			dep, svc := w.baseline(t)
			assert.Nil(t, dep)
			assert.Equal(t, tt.keepService, svc != nil)
			for _, a := range w.kube.Actions() {
				if a.GetVerb() == "delete" {
					del := a.(k8stesting.DeleteActionImpl)
					assert.NotNil(t, del.DeleteOptions.Preconditions.UID, "only the object the lister saw")
				}
			}

			w.sync(t)
			w.kube.ClearActions()
			require.NoError(t, w.b.RemoveBaseline(ctx, tt.cd))
			assert.Empty(t, w.kube.Actions(), "once removed, no API call at all")

			// A lister that lags behind the delete sees the objects again.
			lagging := newBaselineCluster(t)
			lagging.ensureReady(t, judgeCanary())
			require.NoError(t, lagging.kube.AppsV1().Deployments(ns).Delete(ctx, "podinfo-baseline", metav1.DeleteOptions{}))
			require.NoError(t, lagging.kube.CoreV1().Services(ns).Delete(ctx, "podinfo-baseline", metav1.DeleteOptions{}))
			require.NoError(t, lagging.b.RemoveBaseline(ctx, tt.cd), "NotFound is done")
		})
	}

	t.Run("the kept Service is created between runs", func(t *testing.T) {
		w := newBaselineCluster(t)
		cd := judgeCanary(func(cd *flaggerv1.Canary) { cd.Status.Phase = flaggerv1.CanaryPhaseInitialized })
		require.NoError(t, w.b.RemoveBaseline(ctx, cd))
		dep, svc := w.baseline(t)
		assert.Nil(t, dep)
		require.NotNil(t, svc, "the route's weight-0 backend must resolve before the first run")
		w.sync(t)
		w.kube.ClearActions()
		require.NoError(t, w.b.RemoveBaseline(ctx, cd))
		assert.Empty(t, w.kube.Actions())
	})

	t.Run("before the primary Service exists", func(t *testing.T) {
		w := newBaselineWorld(t, newDeployment("podinfo"))
		require.NoError(t, w.b.RemoveBaseline(ctx, judgeCanary()))
		assert.Empty(t, w.kube.Actions())
	})
}

// failOnce makes the k-th write fail: before it reaches the cluster
// (applied false) or after (applied true: the operator died before it saw
// the answer).
func failOnce(w *baselineWorld, k int, applied bool) {
	w.faulty = true
	n := 0
	w.kube.PrependReactor("*", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		switch a.GetVerb() {
		case "create", "update", "patch", "delete":
		default:
			return false, nil, nil
		}
		n++
		if n != k {
			return false, nil, nil
		}
		if applied {
			if _, _, err := k8stesting.ObjectReaction(w.kube.Tracker())(a); err != nil {
				return true, nil, err
			}
		}
		return true, nil, fmt.Errorf("write %d (%s %s) interrupted", k, a.GetVerb(), a.GetResource().Resource)
	})
}

// TestBaselineInterruptedAtEveryWrite runs a baseline's life (created for
// a run, the target rescaled, a new run, removed) and interrupts it at
// every write, once failing the write and once after it was applied: the
// calls that follow, each made on what the listers show, reach the same
// end state as the run without a fault.
func TestBaselineInterruptedAtEveryWrite(t *testing.T) {
	ctx := context.TODO()
	life := func(t *testing.T, w *baselineWorld) {
		run1 := judgeCanary()
		run2 := judgeCanary(func(cd *flaggerv1.Canary) { cd.Status.LastAppliedSpec = "rev-2" })
		w.ensureReady(t, run1)
		target, err := w.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		require.NoError(t, err)
		target.Spec.Replicas = ptr.To[int32](4)
		require.NoError(t, w.kube.Tracker().Update(appsv1.SchemeGroupVersion.WithResource("deployments"), target, ns))
		w.rollOut(t)
		w.ensureReady(t, run1)
		w.ensureReady(t, run2)
		off := judgeCanary(func(cd *flaggerv1.Canary) { cd.Spec.Analysis.Judge.Baseline = false })
		for calls := 1; ; calls++ {
			require.LessOrEqual(t, calls, 5, "removal does not converge")
			err := w.b.RemoveBaseline(ctx, off)
			w.sync(t)
			if dep, svc := w.baseline(t); err == nil && dep == nil && svc == nil {
				return
			}
		}
	}
	clean := newBaselineCluster(t)
	life(t, clean)
	total := clean.writes()
	require.Equal(t, 6, total, "create Service and Deployment, rescale, new run, delete both")

	for k := 1; k <= total; k++ {
		for _, applied := range []bool{false, true} {
			t.Run(fmt.Sprintf("write %d applied %v", k, applied), func(t *testing.T) {
				w := newBaselineCluster(t)
				failOnce(w, k, applied)
				life(t, w)
				dep, svc := w.baseline(t)
				assert.Nil(t, dep)
				assert.Nil(t, svc)
			})
		}
	}
}

// TestBaselineInterruptedMidRun checks the state in the middle of the
// life: after each interrupted EnsureBaseline, the next calls bring the
// baseline to what an uninterrupted run has.
func TestBaselineInterruptedMidRun(t *testing.T) {
	clean := newBaselineCluster(t)
	clean.ensureReady(t, judgeCanary())
	want, wantSvc := clean.baseline(t)
	for k := 1; k <= 2; k++ {
		for _, applied := range []bool{false, true} {
			w := newBaselineCluster(t)
			failOnce(w, k, applied)
			err := w.b.EnsureBaseline(context.TODO(), judgeCanary())
			require.Error(t, err)
			var nre *NotReadyError
			assert.False(t, errors.As(err, &nre), "a failed write is an error to retry, not a wait")
			w.sync(t)
			w.ensureReady(t, judgeCanary())
			got, gotSvc := w.baseline(t)
			assert.Equal(t, want.Spec, got.Spec, "write %d applied %v", k, applied)
			assert.Equal(t, wantSvc.Spec, gotSvc.Spec, "write %d applied %v", k, applied)
		}
	}
}
