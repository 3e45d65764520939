package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

const (
	appPort = 9898
	// revisionAnnotation is the pod-template annotation the rollout changes.
	revisionAnnotation = "bench.serin.dev/revision"
	// createWorkers bounds the bench's concurrent requests.
	createWorkers = 32
)

// app names the i-th Deployment and Canary.
type app struct {
	namespace, name string
	node            string // empty when workloads are simulated
}

func apps(cfg config, nodes []string, prefix string, n int) []app {
	list := make([]app, n)
	for i := range list {
		list[i] = app{namespace: fmt.Sprintf("%s-%d", prefix, i/cfg.perNamespace), name: fmt.Sprintf("app-%d", i)}
		if len(nodes) > 0 {
			list[i].node = nodes[i%len(nodes)]
		}
	}
	return list
}

func (a app) key() string { return a.namespace + "/" + a.name }

func deployment(a app, revision int) *appsv1.Deployment {
	labels := map[string]string{"app": a.name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: a.name, Namespace: a.namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{revisionAnnotation: strconv.Itoa(revision)}},
				Spec: corev1.PodSpec{
					NodeName: a.node,
					Containers: []corev1.Container{{
						Name:  "podinfod",
						Image: "ghcr.io/stefanprodan/podinfo:6.0.0",
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: appPort, Protocol: corev1.ProtocolTCP}},
					}},
				},
			},
		},
	}
}

// canary is the canary: Gateway API, stepWeight 10 up to 50, no
// metrics unless a Prometheus query is given.
func canary(a app, cfg config, query string) *flaggerv1.Canary {
	an := &flaggerv1.CanaryAnalysis{
		Interval:   cfg.interval.String(),
		Threshold:  5,
		MaxWeight:  cfg.maxWeight,
		StepWeight: cfg.stepWeight,
	}
	if query != "" {
		an.Metrics = []flaggerv1.CanaryMetric{{
			Name: "operator-up", Interval: "1m", Query: query,
			ThresholdRange: &flaggerv1.CanaryThresholdRange{Min: new(99.0)},
		}}
	}
	ns := gatewayv1.Namespace(a.namespace)
	return &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: a.name, Namespace: a.namespace},
		Spec: flaggerv1.CanarySpec{
			TargetRef: flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: a.name},
			Service: flaggerv1.CanaryService{
				Port:        appPort,
				TargetPort:  intstr.FromInt32(appPort),
				Hosts:       []string{a.name + ".example.com"},
				GatewayRefs: []gatewayv1.ParentReference{{Name: "gateway", Namespace: &ns}},
			},
			Analysis: an,
		},
	}
}

// createAll creates the namespaces, then every Deployment and Canary.
func createAll(ctx context.Context, e *env, cfg config, list []app, query string) error {
	namespaces := map[string]bool{}
	for _, a := range list {
		if namespaces[a.namespace] {
			continue
		}
		namespaces[a.namespace] = true
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: a.namespace}}
		if _, err := e.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return forEach(ctx, list, func(ctx context.Context, a app) error {
		if _, err := e.kube.AppsV1().Deployments(a.namespace).Create(ctx, deployment(a, 1), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Deployment %s: %w", a.key(), err)
		}
		if _, err := e.flagger.FlaggerV1beta1().Canaries(a.namespace).Create(ctx, canary(a, cfg, query), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Canary %s: %w", a.key(), err)
		}
		return nil
	})
}

// newRevision changes every target's pod template: a new revision to roll
// out. It calls triggered with each app once its patch is accepted.
func newRevision(ctx context.Context, e *env, list []app, triggered func(app)) error {
	patch := fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{%q:"2"}}}}}`, revisionAnnotation)
	return forEach(ctx, list, func(ctx context.Context, a app) error {
		_, err := e.kube.AppsV1().Deployments(a.namespace).Patch(ctx, a.name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		if err != nil {
			return fmt.Errorf("patching Deployment %s: %w", a.key(), err)
		}
		triggered(a)
		return nil
	})
}

// forEach runs fn for every app with createWorkers goroutines and returns
// the first error.
func forEach(ctx context.Context, list []app, fn func(context.Context, app) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(createWorkers, len(list)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(list)) && ctx.Err() == nil; i = next.Add(1) - 1 {
				if err := fn(ctx, list[i]); err != nil {
					cancel(err)
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
