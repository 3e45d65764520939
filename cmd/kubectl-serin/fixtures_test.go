package main

import (
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	serinfake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	"github.com/serin-dev/serin/test/lib/syncbuf"
)

// t0 is the fixed "now" of the rendering tests.
var t0 = time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC)

// canaryOpt changes a test canary.
type canaryOpt func(*flaggerv1.Canary)

// newCanary is podinfo in namespace test, with a one-step analysis.
func newCanary(opts ...canaryOpt) *flaggerv1.Canary {
	cd := &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: flaggerv1.CanarySpec{
			TargetRef: flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Analysis:  &flaggerv1.CanaryAnalysis{Threshold: 5, StepWeight: 50, MaxWeight: 50},
		},
	}
	for _, o := range opts {
		o(cd)
	}
	return cd
}

func withStatus(phase flaggerv1.CanaryPhase, weight, failed int) canaryOpt {
	return func(cd *flaggerv1.Canary) {
		cd.Status.Phase, cd.Status.CanaryWeight, cd.Status.FailedChecks = phase, weight, failed
	}
}

func withRevision(applied, promoted string) canaryOpt {
	return func(cd *flaggerv1.Canary) { cd.Status.LastAppliedSpec, cd.Status.LastPromotedSpec = applied, promoted }
}

func withRequest(action, id, handled string) canaryOpt {
	return func(cd *flaggerv1.Canary) {
		cd.Annotations = map[string]string{analysis.RequestAnnotation: action, analysis.RequestIDAnnotation: id}
		cd.Status.LastHandledRequest = handled
	}
}

func withGate(name string, typ flaggerv1.HookType) canaryOpt {
	return func(cd *flaggerv1.Canary) {
		cd.Spec.Analysis.Webhooks = append(cd.Spec.Analysis.Webhooks,
			flaggerv1.CanaryWebhook{Name: name, Type: typ, URL: "http://gate/"})
	}
}

func newDeployment(name, image string, ready, desired int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "test"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &desired,
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "podinfod", Image: image}}}},
		},
		Status: appsv1.DeploymentStatus{ReadyReplicas: ready},
	}
}

func newEvent(name, typ, reason, message string, at time.Time) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: "test"},
		InvolvedObject: corev1.ObjectReference{Kind: "Canary", Name: "podinfo", Namespace: "test"},
		Type:           typ, Reason: reason, Message: message,
		LastTimestamp: metav1.NewTime(at),
	}
}

func newRoute(primary, canary int32) *gatewayv1.HTTPRoute {
	accepted := metav1.Condition{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"}
	resolved := metav1.Condition{Type: "ResolvedRefs", Status: metav1.ConditionFalse, Reason: "BackendNotFound"}
	return &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{
			{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "podinfo-primary"}, Weight: &primary}},
			{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "podinfo-canary"}, Weight: &canary}},
		}}}},
		Status: gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{{
			ParentRef:  gatewayv1.ParentReference{Name: "gateway"},
			Conditions: []metav1.Condition{accepted, resolved},
		}}}},
	}
}

// objects converts a table's fixtures.
func objects(objs []any) []runtime.Object {
	out := make([]runtime.Object, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(runtime.Object))
	}
	return out
}

// fakeCLI is a cli over fake clientsets holding objs, writing to buffers.
type fakeCLI struct {
	*cli
	stdout, stderr *syncbuf.Buffer
	serin          *serinfake.Clientset
}

// renders counts the releases `get` printed.
func (f fakeCLI) renders() int {
	return strings.Count(f.stdout.String(), "Canary:      ")
}

func newFakeCLI(opts *options, objs ...runtime.Object) fakeCLI {
	var kube, serin, gateway []runtime.Object
	for _, o := range objs {
		switch o.(type) {
		case *flaggerv1.Canary:
			serin = append(serin, o)
		case *gatewayv1.HTTPRoute:
			gateway = append(gateway, o)
		default:
			kube = append(kube, o)
		}
	}
	f := fakeCLI{stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, serin: serinfake.NewSimpleClientset(serin...)}
	f.cli = &cli{
		opts: opts, namespace: "test", out: f.stdout, errOut: f.stderr,
		kube: kubefake.NewClientset(kube...), serin: f.serin, gateway: gatewayfake.NewClientset(gateway...),
	}
	return f
}
