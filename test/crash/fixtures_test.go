package crash

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// The templates of the scenarios differ by their image; the world and
// the metrics decide how each behaves.
const (
	imageV0      = "ghcr.io/stefanprodan/podinfo:6.0.0"
	imageV1      = "ghcr.io/stefanprodan/podinfo:6.0.1"
	imageV2      = "ghcr.io/stefanprodan/podinfo:6.0.2"
	imageErrors  = "ghcr.io/stefanprodan/podinfo:6.0.1-errors" // answers 50% errors
	imageCrashes = "ghcr.io/stefanprodan/podinfo:6.0.1-crash"  // pods never ready
	imageQuota   = "ghcr.io/stefanprodan/podinfo:6.0.1-quota"  // no room for the primary's pods
	// imageWorse fails three times as many requests as the others, 3%
	// instead of 1%, in the counters of the judge's compared metrics.
	imageWorse = "ghcr.io/stefanprodan/podinfo:6.0.1-worse"
)

// analysisInterval is fake time: any value costs the same wall time.
const analysisInterval = "1m"

// target is the tutorial's podinfo Deployment.
func target(ns string) *appsv1.Deployment {
	labels := map[string]string{"app": "podinfo"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: targetName, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "podinfod", Image: imageV0,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898, Protocol: corev1.ProtocolTCP}},
				}}},
			},
		},
	}
}

// daemonSetNodes is how many nodes the world runs a DaemonSet's pods on.
const daemonSetNodes = 2

// targetDaemonSet is the tutorial's podinfo as a DaemonSet.
func targetDaemonSet(ns string) *appsv1.DaemonSet {
	dep := target(ns)
	return &appsv1.DaemonSet{
		ObjectMeta: dep.ObjectMeta,
		Spec:       appsv1.DaemonSetSpec{Selector: dep.Spec.Selector, Template: dep.Spec.Template},
	}
}

// errorRateTemplate is the tutorial's error-rate MetricTemplate, asking the
// run's Prometheus.
func errorRateTemplate(ns, address string) *flaggerv1.MetricTemplate {
	return &flaggerv1.MetricTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "error-rate", Namespace: ns},
		Spec: flaggerv1.MetricTemplateSpec{
			Provider: flaggerv1.MetricTemplateProvider{Type: "prometheus", Address: address},
			Query:    `100 - sum(rate(requests_total{namespace="{{ namespace }}",workload="{{ target }}",code!~"5.*"}[{{ interval }}])) / sum(rate(requests_total{namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}])) * 100`,
		},
	}
}

// seedCanary is test/testdata/seed/podinfo-canary.yaml with a shorter
// ladder (25, 50) and threshold (2), so that a release has fewer writes to
// interrupt, and with its hooks pointed at the run's receiver.
func seedCanary(ns string, h *hooks) *flaggerv1.Canary {
	return &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: canaryName, Namespace: ns},
		Spec: flaggerv1.CanarySpec{
			TargetRef:               flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: targetName},
			ProgressDeadlineSeconds: ptr.To[int32](60),
			Service: flaggerv1.CanaryService{
				Port: 9898, TargetPort: intstr.FromInt32(9898), Hosts: []string{"www.example.com"},
				GatewayRefs: []gatewayv1.ParentReference{{Name: "gateway", Namespace: ptr.To[gatewayv1.Namespace]("istio-ingress")}},
			},
			Analysis: &flaggerv1.CanaryAnalysis{
				Interval: analysisInterval, Threshold: 2, MaxWeight: 50, StepWeight: 25,
				Metrics: []flaggerv1.CanaryMetric{{
					Name: "error-rate", Interval: "1m",
					TemplateRef:    &flaggerv1.CrossNamespaceObjectReference{Name: "error-rate"},
					ThresholdRange: &flaggerv1.CanaryThresholdRange{Max: ptr.To(1.0)},
				}},
				Webhooks: []flaggerv1.CanaryWebhook{
					{Name: "smoke-test", Type: flaggerv1.PreRolloutHook, URL: h.url("smoke-test"), Timeout: "15s"},
					{Name: "load-test", Type: flaggerv1.RolloutHook, URL: h.url("load-test"), Timeout: "5s"},
				},
			},
		},
	}
}

// setImage releases a new revision the tutorial's way.
func setImage(ctx context.Context, r *run, image string) error {
	patch := []byte(fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"podinfod","image":%q}]}}}}`, image))
	if r.scn.daemonSet {
		written, err := r.env.kube.AppsV1().DaemonSets(r.ns).Patch(ctx, targetName, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		if err == nil {
			r.act.wrote("daemonsets", resourceVersion(written))
		}
		return err
	}
	written, err := r.env.kube.AppsV1().Deployments(r.ns).Patch(ctx, targetName, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err == nil {
		r.act.wrote("deployments", resourceVersion(written))
	}
	return err
}
