package canary

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	appslisters "k8s.io/client-go/listers/apps/v1"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	corelisters "k8s.io/client-go/listers/core/v1"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/test/lib/secretlister"
)

const ns = "test"

// podinfoOwner is the owner reference to the fixture target, podinfo.
var podinfoOwner = owners.Target("podinfo", "podinfo-uid")

// canaryOwnedOnly keeps the first owner reference of obj, the canary's: an
// object as an older Serin, or Flagger, created it.
func canaryOwnedOnly[T metav1.Object](obj T) T {
	obj.SetOwnerReferences(obj.GetOwnerReferences()[:1])
	return obj
}

var testNow = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

// fixture is a controller over a fake clientset and listers fed by indexers.
// The listers show the objects given to newFixture only: writes go to the
// fake clientset, so tests assert on its actions and objects.
type fixture struct {
	ctrl *Deployments
	kube *fake.Clientset
	ids  int
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	return newFixtureWith(t, nil, objs...)
}

func newFixtureWith(t *testing.T, mod func(*Config), objs ...runtime.Object) *fixture {
	t.Helper()
	idx := func() cache.Indexer {
		return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	deps, dss, hpas, cms, secrets := idx(), idx(), idx(), idx(), idx()
	for _, o := range objs {
		var err error
		switch o.(type) {
		case *appsv1.Deployment:
			err = deps.Add(o)
		case *appsv1.DaemonSet:
			err = dss.Add(o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			err = hpas.Add(o)
		case *corev1.ConfigMap:
			err = cms.Add(o)
		case *corev1.Secret:
			err = secrets.Add(o)
		}
		require.NoError(t, err)
	}
	f := &fixture{kube: fake.NewClientset(objs...)}
	cfg := Config{
		KubeClient:  f.kube,
		Deployments: appslisters.NewDeploymentLister(deps),
		DaemonSets:  appslisters.NewDaemonSetLister(dss),
		HPAs:        autoscalinglisters.NewHorizontalPodAutoscalerLister(hpas),
		ConfigMaps:  corelisters.NewConfigMapLister(cms),
		Secrets:     secretlister.Lister{SecretLister: corelisters.NewSecretLister(secrets)},
		Clock:       testingclock.NewFakePassiveClock(testNow),
		NewID: func() string {
			f.ids++
			return "id-" + strconv.Itoa(f.ids)
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	ctrl, err := NewDeployments(cfg)
	require.NoError(t, err)
	f.ctrl = ctrl
	return f
}

// writes returns the mutating actions sent to the fake clientset.
func (f *fixture) writes() []k8stesting.Action {
	var out []k8stesting.Action
	for _, a := range f.kube.Actions() {
		switch a.GetVerb() {
		case "create", "update", "patch", "delete":
			out = append(out, a)
		}
	}
	return out
}

func (f *fixture) deployment(t *testing.T, name string) *appsv1.Deployment {
	t.Helper()
	d, err := f.kube.AppsV1().Deployments(ns).Get(context.TODO(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return d
}

// canaryOpt changes a test Canary.
type canaryOpt func(*flaggerv1.Canary)

func newCanary(opts ...canaryOpt) *flaggerv1.Canary {
	cd := &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns, UID: types.UID("canary-uid")},
		Spec: flaggerv1.CanarySpec{
			TargetRef: flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Service:   flaggerv1.CanaryService{Port: 9898},
			Analysis:  &flaggerv1.CanaryAnalysis{Interval: "1m", StepWeight: 10},
		},
	}
	for _, o := range opts {
		o(cd)
	}
	return cd
}

func withHPARef(name string) canaryOpt {
	return func(cd *flaggerv1.Canary) {
		cd.Spec.AutoscalerRef = &flaggerv1.AutoscalerReference{
			APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Name: name,
		}
	}
}

// depOpt changes a test Deployment.
type depOpt func(*appsv1.Deployment)

// newDeployment returns a rolled-out Deployment selected by app=<name>.
func newDeployment(name string, opts ...depOpt) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 1, UID: types.UID(name + "-uid")},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "podinfod",
					Image: "ghcr.io/stefanprodan/podinfo:6.0.0",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
		},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, ReadyReplicas: 2,
		},
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

func withReplicas(n int32) depOpt {
	return func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To(n) }
}

func withPodSpec(fn func(*corev1.PodSpec)) depOpt {
	return func(d *appsv1.Deployment) { fn(&d.Spec.Template.Spec) }
}

func withStatus(replicas, updated, available int32) depOpt {
	return func(d *appsv1.Deployment) {
		d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = replicas, updated, available
	}
}

func withCondition(t appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason string, updated time.Time) depOpt {
	return func(d *appsv1.Deployment) {
		d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{
			Type: t, Status: status, Reason: reason, LastUpdateTime: metav1.NewTime(updated),
		})
	}
}

// withRollout gives a Deployment a rollout strategy and timings to copy.
func withRollout() depOpt {
	return func(d *appsv1.Deployment) {
		d.Spec.MinReadySeconds = 5
		d.Spec.RevisionHistoryLimit = ptr.To[int32](3)
		d.Spec.ProgressDeadlineSeconds = ptr.To[int32](120)
		d.Spec.Strategy = appsv1.DeploymentStrategy{
			Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromString("25%")),
			},
		}
	}
}

func newConfigMap(name string, data map[string]string, annotations map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations},
		Data:       data,
	}
}

func newSecret(name string, typ corev1.SecretType, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Type: typ, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func newHPA(name, target string, lo *int32, hi int32) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target},
			MinReplicas:    lo,
			MaxReplicas:    hi,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](80)},
				},
			}},
		},
	}
}

// configPodSpec makes the target use one ConfigMap and one Secret through
// each kind of reference.
func configPodSpec(spec *corev1.PodSpec) {
	spec.Volumes = []corev1.Volume{
		{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg-vol"}}}},
		{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec-vol"}}},
		{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg-proj"}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "sec-proj"}}},
		}}}},
	}
	c := &spec.Containers[0]
	c.Env = []corev1.EnvVar{
		{Name: "A", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg-env"}, Key: "a"}}},
		{Name: "B", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "sec-env"}, Key: "b"}}},
		{Name: "C", Value: "plain"},
	}
	c.EnvFrom = []corev1.EnvFromSource{
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg-envfrom"}}},
		{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec-envfrom"}}},
	}
	spec.InitContainers = []corev1.Container{{
		Name: "init",
		EnvFrom: []corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg-init"}}},
		},
	}}
}

// configObjects are the objects configPodSpec refers to.
func configObjects() []runtime.Object {
	return []runtime.Object{
		newConfigMap("cfg-vol", map[string]string{"k": "vol"}, nil),
		newConfigMap("cfg-proj", map[string]string{"k": "proj"}, nil),
		newConfigMap("cfg-env", map[string]string{"a": "env"}, nil),
		newConfigMap("cfg-envfrom", map[string]string{"k": "envfrom"}, nil),
		newConfigMap("cfg-init", map[string]string{"k": "init"}, nil),
		newSecret("sec-vol", corev1.SecretTypeOpaque, map[string]string{"k": "vol"}),
		newSecret("sec-proj", corev1.SecretTypeTLS, map[string]string{"tls.crt": "c", "tls.key": "k"}),
		newSecret("sec-env", corev1.SecretTypeBasicAuth, map[string]string{"b": "env"}),
		newSecret("sec-envfrom", corev1.SecretTypeSSHAuth, map[string]string{"ssh-privatekey": "k"}),
	}
}

func errConflict() error {
	return apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "podinfo-primary",
		errors.New("the object has been modified"))
}
