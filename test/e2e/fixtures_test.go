package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/manifest"
	"github.com/serin-dev/serin/test/lib/metricsexporter"
	"github.com/serin-dev/serin/test/lib/must"
)

// analysisInterval shortens the tutorial's 1m interval to Serin's minimum.
const analysisInterval = "10s"

// healthy is the traffic of a good revision.
var healthy = metricsexporter.Traffic{RPS: 20, ErrorRatio: 0, Latency: 20 * time.Millisecond}

var resources = map[string]schema.GroupVersionResource{
	"ConfigMap":               {Version: "v1", Resource: "configmaps"},
	"Deployment":              {Group: "apps", Version: "v1", Resource: "deployments"},
	"DaemonSet":               {Group: "apps", Version: "v1", Resource: "daemonsets"},
	"HorizontalPodAutoscaler": {Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
	"Canary":                  {Group: "flagger.app", Version: "v1beta1", Resource: "canaries"},
	"MetricTemplate":          {Group: "flagger.app", Version: "v1beta1", Resource: "metrictemplates"},
	"Gateway":                 {Group: "gateway.networking.k8s.io", Version: "v1beta1", Resource: "gateways"},
}

// apply server-side-applies an object.
func apply(ctx context.Context, obj *unstructured.Unstructured) error {
	gvr, ok := resources[obj.GetKind()]
	if !ok {
		return fmt.Errorf("no resource known for %s", obj.GetKind())
	}
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	_, err = env.dyn.Resource(gvr).Namespace(obj.GetNamespace()).Patch(ctx, obj.GetName(),
		"application/apply-patch+yaml", data, metav1.PatchOptions{FieldManager: "e2e", Force: new(true)})
	if err != nil {
		return fmt.Errorf("apply %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

func ensureNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	_, err := env.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// applyMetricTemplates applies the tutorial's MetricTemplates, pointed at
// the test's Prometheus instead of prometheus.istio-system, and its Gateway.
func applyMetricTemplates(ctx context.Context) error {
	for _, file := range []string{"metric-templates.yaml", "gateway.yaml"} {
		objs, err := manifest.ReadFiles(filepath.Join("..", "testdata", "seed", file))
		if err != nil {
			return err
		}
		for _, obj := range objs {
			if err := ensureNamespace(ctx, obj.GetNamespace()); err != nil {
				return err
			}
			if obj.GetKind() == "MetricTemplate" {
				if err := unstructured.SetNestedField(obj.Object, env.prom.URL(), "spec", "provider", "address"); err != nil {
					return err
				}
			}
			if err := apply(ctx, obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedCanary reads a seed Canary and changes only what the test
// environment needs: its namespace, the analysis interval, and the webhook
// URLs, which point at the test's receiver.
func seedCanary(t *testing.T, file, namespace string) *unstructured.Unstructured {
	t.Helper()
	objs, err := manifest.ReadFiles(filepath.Join("..", "testdata", "seed", file))
	require.NoError(t, err)
	require.Len(t, objs, 1)
	cd := objs[0]
	cd.SetNamespace(namespace)
	require.NoError(t, unstructured.SetNestedField(cd.Object, analysisInterval, "spec", "analysis", "interval"))
	hooks, _, err := unstructured.NestedSlice(cd.Object, "spec", "analysis", "webhooks")
	require.NoError(t, err)
	for _, h := range hooks {
		hook := h.(map[string]any)
		hook["url"] = strings.Replace(hook["url"].(string), "http://flagger-loadtester.test/", env.hooks.URL(), 1)
	}
	require.NoError(t, unstructured.SetNestedSlice(cd.Object, hooks, "spec", "analysis", "webhooks"))
	return cd
}

// bootstrap deploys podinfo and the tutorial's Canary in a fresh namespace
// and waits until Serin has initialised it.
func bootstrap(t *testing.T, namespace string) {
	t.Helper()
	deploy(t, seedCanary(t, "podinfo-canary.yaml", namespace))
}

// canary reads the canary of a scenario.
func canary(t *testing.T, namespace string) *flaggerv1.Canary {
	t.Helper()
	cd, err := env.flagger.FlaggerV1beta1().Canaries(namespace).Get(t.Context(), "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	return cd
}

// waitPhase waits for the canary to reach a phase.
func waitPhase(t *testing.T, namespace string, phase flaggerv1.CanaryPhase, timeout time.Duration) {
	t.Helper()
	must.Eventually(t, timeout, 250*time.Millisecond, func() (bool, error) {
		cd, err := env.flagger.FlaggerV1beta1().Canaries(namespace).Get(t.Context(), "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if cd.Status.Phase != phase {
			return false, fmt.Errorf("phase %q, weight %d, failed checks %d; events:\n%s",
				cd.Status.Phase, cd.Status.CanaryWeight, cd.Status.FailedChecks, strings.Join(eventMessages(t, namespace), "\n"))
		}
		return true, nil
	}, "canary %s/podinfo to reach %s", namespace, phase)
}

// setImage changes the target's image, the tutorial's way to release.
func setImage(t *testing.T, namespace, image string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"podinfod","image":%q}]}}}}`, image)
	_, err := env.kube.AppsV1().Deployments(namespace).Patch(t.Context(), "podinfo",
		"application/strategic-merge-patch+json", []byte(patch), metav1.PatchOptions{})
	require.NoError(t, err)
}

// eventMessages returns the canary's events, oldest first.
func eventMessages(t *testing.T, namespace string) []string {
	t.Helper()
	list, err := env.kube.CoreV1().Events(namespace).List(t.Context(), metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Canary,involvedObject.name=podinfo",
	})
	if err != nil {
		return []string{err.Error()}
	}
	events := list.Items
	sortEvents(events)
	var messages []string
	for _, e := range events {
		messages = append(messages, e.Message)
	}
	return messages
}
