package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/manifest"
	"github.com/serin-dev/serin/test/lib/must"
)

// Helpers of the release-strategy scenarios: seed Canaries with small
// edits, and waits on the canary's status.

// edit changes a seed Canary before it is applied.
type edit func(t *testing.T, cd *unstructured.Unstructured)

// set sets a field of the Canary, e.g. set(int64(3), "spec", "analysis", "iterations").
func set(value any, fields ...string) edit {
	return func(t *testing.T, cd *unstructured.Unstructured) {
		t.Helper()
		require.NoError(t, unstructured.SetNestedField(cd.Object, value, fields...))
	}
}

// unset removes a field of the Canary.
func unset(fields ...string) edit {
	return func(_ *testing.T, cd *unstructured.Unstructured) {
		unstructured.RemoveNestedField(cd.Object, fields...)
	}
}

// shortLadder replaces the seed's 10..50 ladder with a single step to 50%,
// for the scenarios whose subject is not the weights.
func shortLadder() edit {
	return func(t *testing.T, cd *unstructured.Unstructured) {
		set(int64(50), "spec", "analysis", "stepWeight")(t, cd)
		set(int64(50), "spec", "analysis", "maxWeight")(t, cd)
	}
}

// hook appends a webhook; path is a path on the test's receiver (see
// hookServer), e.g. gatePrefix+namespace.
func hook(name string, typ flaggerv1.HookType, path string) edit {
	return func(t *testing.T, cd *unstructured.Unstructured) {
		t.Helper()
		hooks, _, err := unstructured.NestedSlice(cd.Object, "spec", "analysis", "webhooks")
		require.NoError(t, err)
		hooks = append(hooks, map[string]any{
			"name": name, "type": string(typ), "url": env.hooks.pathURL(path), "timeout": "5s",
		})
		require.NoError(t, unstructured.SetNestedSlice(cd.Object, hooks, "spec", "analysis", "webhooks"))
	}
}

// provider sets spec.provider.
func provider(p string) edit { return set(p, "spec", "provider") }

// seed reads a seed Canary for a namespace (see seedCanary) and applies
// edits to it.
func seed(t *testing.T, file, namespace string, edits ...edit) *unstructured.Unstructured {
	t.Helper()
	cd := seedCanary(t, file, namespace)
	for _, e := range edits {
		e(t, cd)
	}
	return cd
}

// testdataCanary reads a Canary of test/testdata (not a seed) like seed.
func testdataCanary(t *testing.T, file, namespace string, edits ...edit) *unstructured.Unstructured {
	t.Helper()
	return seed(t, filepath.Join("..", file), namespace, edits...)
}

// phaseRecorder records the distinct phases a canary goes through, from a
// watch, ending with "deleted" when the Canary is gone.
type phaseRecorder struct {
	mu     sync.Mutex
	phases []string
	stop   chan struct{}
	done   chan struct{}
}

// recordPhases starts recording the phases of a scenario's canary.
func recordPhases(t *testing.T, namespace string) *phaseRecorder {
	t.Helper()
	cd := canary(t, namespace)
	r := &phaseRecorder{stop: make(chan struct{}), done: make(chan struct{})}
	r.add(string(cd.Status.Phase))
	w, err := env.flagger.FlaggerV1beta1().Canaries(namespace).Watch(t.Context(), metav1.ListOptions{
		FieldSelector: "metadata.name=podinfo", ResourceVersion: cd.ResourceVersion,
	})
	require.NoError(t, err)
	go func() {
		defer close(r.done)
		defer w.Stop()
		for {
			select {
			case <-r.stop:
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				if c, isCanary := ev.Object.(*flaggerv1.Canary); isCanary {
					r.add(string(c.Status.Phase))
				}
				if ev.Type == watch.Deleted {
					r.add("deleted")
				}
			}
		}
	}()
	t.Cleanup(func() {
		close(r.stop)
		<-r.done
	})
	return r
}

func (r *phaseRecorder) add(phase string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.phases); n == 0 || r.phases[n-1] != phase {
		r.phases = append(r.phases, phase)
	}
}

// seen returns the distinct phases so far, oldest first.
func (r *phaseRecorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.phases)
}

// deploy applies podinfo and then cd in cd's namespace (created if needed)
// and waits until Serin has initialised the canary; bootstrap is deploy
// with the tutorial's Canary.
func deploy(t *testing.T, cd *unstructured.Unstructured) {
	t.Helper()
	ctx := t.Context()
	namespace := cd.GetNamespace()
	require.NoError(t, ensureNamespace(ctx, namespace))
	env.exporter.Set(namespace, "podinfo", healthy)
	env.exporter.Set(namespace, "podinfo-primary", healthy)
	objs, err := manifest.ReadFiles(filepath.Join("testdata", "podinfo.yaml"))
	require.NoError(t, err)
	for _, obj := range objs {
		obj.SetNamespace(namespace)
		require.NoError(t, apply(ctx, obj))
	}
	require.NoError(t, apply(ctx, cd))
	waitPhase(t, namespace, flaggerv1.CanaryPhaseInitialized, 2*time.Minute)
}

// waitCanary waits until cond holds for the canary; cond returns a
// description of what it saw when it does not hold.
func waitCanary(t *testing.T, namespace string, timeout time.Duration, what string, cond func(cd *flaggerv1.Canary) error) *flaggerv1.Canary {
	t.Helper()
	var last *flaggerv1.Canary
	must.Eventually(t, timeout, 250*time.Millisecond, func() (bool, error) {
		cd, err := env.flagger.FlaggerV1beta1().Canaries(namespace).Get(t.Context(), "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = cd
		if err := cond(cd); err != nil {
			return false, fmt.Errorf("%w; phase %s, weight %d, iterations %d; events:\n%s", err,
				cd.Status.Phase, cd.Status.CanaryWeight, cd.Status.Iterations, strings.Join(eventMessages(t, namespace), "\n"))
		}
		return true, nil
	}, "canary %s/podinfo: %s", namespace, what)
	return last
}

// waitProgressing waits until the canary's analysis is progressing at weight or more.
func waitProgressing(t *testing.T, namespace string, weight int, what string) {
	t.Helper()
	must.Eventually(t, 2*time.Minute, 250*time.Millisecond, func() (bool, error) {
		cd := canary(t, namespace)
		return cd.Status.Phase == flaggerv1.CanaryPhaseProgressing && cd.Status.CanaryWeight >= weight, nil
	}, what)
}

// releaseThrough deploys cd with its route read and written through a Gateway API version
// ("v1", or "v1beta1" with spec.provider set to match), starts recording the route and
// releases image.
func releaseThrough(t *testing.T, version string, cd *unstructured.Unstructured, image string) *routeRecorder {
	t.Helper()
	if version == "v1beta1" {
		provider("gatewayapi:v1beta1")(t, cd)
	}
	deploy(t, cd)
	routes := recordRoutes(t, cd.GetNamespace(), version)
	setImage(t, cd.GetNamespace(), image)
	return routes
}

// waitEvent waits for an event containing text.
func waitEvent(t *testing.T, namespace string, timeout time.Duration, text string) {
	t.Helper()
	must.Eventually(t, timeout, 250*time.Millisecond, func() (bool, error) {
		messages := eventMessages(t, namespace)
		if ok, _ := hasEvents(messages, text); ok {
			return true, nil
		}
		return false, fmt.Errorf("events:\n%s", strings.Join(messages, "\n"))
	}, "event %q in %s", text, namespace)
}

// eventCount counts the occurrences of the canary's events containing
// text, folded ones included.
func eventCount(t *testing.T, namespace, text string) int {
	t.Helper()
	list, err := env.kube.CoreV1().Events(namespace).List(t.Context(), metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Canary,involvedObject.name=podinfo",
	})
	require.NoError(t, err)
	n := 0
	for _, e := range list.Items {
		if strings.Contains(e.Message, text) {
			n += max(int(e.Count), 1)
		}
	}
	return n
}

// cookieRe is the regular expression of a sticky rule for a cookie
// (name=value), as Serin writes it.
func cookieRe(cookie string) string {
	return "^(.*?; ?)?" + regexp.QuoteMeta(cookie) + "(;.*)?$"
}

// targetImage returns the image of a Deployment of the scenario.
func targetImage(t *testing.T, namespace, name string) string {
	t.Helper()
	d, err := env.kube.AppsV1().Deployments(namespace).Get(t.Context(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return d.Spec.Template.Spec.Containers[0].Image
}

// replicas returns the spec.replicas of a Deployment of the scenario.
func replicas(t *testing.T, namespace, name string) int32 {
	t.Helper()
	d, err := env.kube.AppsV1().Deployments(namespace).Get(t.Context(), name, metav1.GetOptions{})
	require.NoError(t, err)
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// split is the shape of a one-rule route at the given weights.
func split(primary, canary int) string {
	return fmt.Sprintf("/ -> primary=%d canary=%d", primary, canary)
}

// ladder is the shapes of a weighted release stepping through weights,
// between two all-primary routes.
func ladder(weights ...int) []string {
	shapes := []string{split(100, 0)}
	for _, w := range weights {
		shapes = append(shapes, split(100-w, w))
	}
	return append(shapes, split(100, 0))
}

// requirePhases checks that the canary went through the given phases, in
// order (others may come between).
func requirePhases(t *testing.T, r *phaseRecorder, want ...string) {
	t.Helper()
	seen := r.seen()
	i := 0
	for _, p := range seen {
		if i < len(want) && p == want[i] {
			i++
		}
	}
	require.Equal(t, len(want), i, "phases %v, want in order %v", seen, want)
}
