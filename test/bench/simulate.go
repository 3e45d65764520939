package main

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// simulatorWorkers write Deployment status concurrently.
const simulatorWorkers = 16

// startSimulator stands in for kube-controller-manager, KWOK and the pods
// when -workloads=simulated: every Deployment is reported rolled out as soon
// as it changes. It keeps the operator's view of readiness (generation,
// replica counts, conditions) real while nothing runs.
func startSimulator(ctx context.Context, e *env) error {
	factory := kubeinformers.NewSharedInformerFactoryWithOptions(e.kube, 0, kubeinformers.WithTransform(stripManagedFields))
	informer := factory.Apps().V1().Deployments().Informer()
	lister := factory.Apps().V1().Deployments().Lister()
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[cache.ObjectName]())
	context.AfterFunc(ctx, queue.ShutDown)
	enqueue := func(obj any) {
		if key, err := cache.ObjectToName(obj); err == nil {
			queue.Add(key)
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		return fmt.Errorf("simulator cache did not sync")
	}
	for range simulatorWorkers {
		go func() {
			for {
				key, shutdown := queue.Get()
				if shutdown {
					return
				}
				err := markRolledOut(ctx, e, lister.Deployments(key.Namespace), key.Name)
				if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
					queue.AddRateLimited(key)
				} else {
					queue.Forget(key)
				}
				queue.Done(key)
			}
		}()
	}
	return nil
}

type deploymentGetter interface {
	Get(name string) (*appsv1.Deployment, error)
}

// markRolledOut writes the status of a Deployment whose rollout finished.
func markRolledOut(ctx context.Context, e *env, deployments deploymentGetter, name string) error {
	dep, err := deployments.Get(name)
	if err != nil {
		return err
	}
	want := rolledOut(dep)
	if equality.Semantic.DeepEqual(dep.Status, want) {
		return nil
	}
	dep = dep.DeepCopy()
	dep.Status = want
	_, err = e.kube.AppsV1().Deployments(dep.Namespace).UpdateStatus(ctx, dep, metav1.UpdateOptions{})
	return err
}

func rolledOut(dep *appsv1.Deployment) appsv1.DeploymentStatus {
	replicas := int32(1)
	if dep.Spec.Replicas != nil {
		replicas = *dep.Spec.Replicas
	}
	st := appsv1.DeploymentStatus{
		ObservedGeneration: dep.Generation,
		Replicas:           replicas, UpdatedReplicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
		},
	}
	// Keep the old condition timestamps, so that an unchanged status compares equal.
	for i, c := range st.Conditions {
		for _, old := range dep.Status.Conditions {
			if old.Type == c.Type && old.Status == c.Status && old.Reason == c.Reason {
				st.Conditions[i].LastUpdateTime, st.Conditions[i].LastTransitionTime = old.LastUpdateTime, old.LastTransitionTime
			}
		}
	}
	return st
}
