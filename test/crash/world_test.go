package crash

import (
	"context"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"

	"github.com/serin-dev/serin/pkg/canary"
)

// gatewayControllerName is the controller the world answers HTTPRoutes as.
const gatewayControllerName = "crash.serin.dev/gateway"

// podStartup is how long new pods take to be ready, in fake time: well
// within any progress deadline, and never zero, so that the operator
// always sees a rollout in progress before it is done.
const podStartup = 5 * time.Second

// world plays what runs beside the operator in a cluster: the Deployment
// controller with its pods, and the Gateway controller. It has its own
// client, whose writes are never counted nor failed.
//
// A Deployment's new pods are ready podStartup of fake time after its
// template or replica count changed (the driver jumps there; the world
// never races the operator in real time), unless the scenario
// marks the template broken for that Deployment; then they never become
// ready and the Deployment's own progress deadline, counted in fake time,
// ends in ProgressDeadlineExceeded. Meanwhile the pods of the previous
// template keep serving, as in a rolling update with Kubernetes' default
// surge; scaled to zero, a Deployment has no pod at once.
type world struct {
	ns     string
	env    *env
	clock  *timeline
	act    *activity
	broken func(deployment, image string) bool

	deployments kubeinformers.SharedInformerFactory
	routes      gatewayinformers.SharedInformerFactory
	queue       workqueue.TypedRateLimitingInterface[worldKey]
	// rollouts are the world's memory of each Deployment's pods; only the
	// world's single worker touches it.
	rollouts map[string]*rollout
}

// worldKey is a Deployment, a DaemonSet or an HTTPRoute to bring up to
// date.
type worldKey struct {
	route     bool
	daemonSet bool
	name      string
}

// rollout is what the world remembers of a Deployment's pods.
type rollout struct {
	// template is the image and replica count being rolled out, and since
	// when (fake time).
	template string
	since    time.Time
	// serving is how many pods of the last template that did roll out
	// are still running.
	serving int32
}

func newWorld(e *env, ns string, tl *timeline, act *activity, broken func(string, string) bool) *world {
	if broken == nil {
		broken = func(string, string) bool { return false }
	}
	return &world{
		ns: ns, env: e, clock: tl, act: act, broken: broken,
		deployments: kubeinformers.NewSharedInformerFactoryWithOptions(e.kube, 0, kubeinformers.WithNamespace(ns)),
		routes:      gatewayinformers.NewSharedInformerFactoryWithOptions(e.gateway, 0, gatewayinformers.WithNamespace(ns)),
		queue:       workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[worldKey]()),
		rollouts:    map[string]*rollout{},
	}
}

// start runs the world until ctx ends.
func (w *world) start(ctx context.Context) error {
	context.AfterFunc(ctx, w.queue.ShutDown)
	deps := w.deployments.Apps().V1().Deployments().Informer()
	daemonSets := w.deployments.Apps().V1().DaemonSets().Informer()
	routes := w.routes.Gateway().V1().HTTPRoutes().Informer()
	handler := func(resource string, key worldKey) cache.ResourceEventHandler {
		w.act.follows("world", resource)
		add := func(obj any) {
			if m, err := meta.Accessor(obj); err == nil {
				// Queued before it is seen, so that the run is never quiet
				// in between.
				key.name = m.GetName()
				w.queue.Add(key)
				w.act.saw("world", resource, resourceVersion(m))
			}
		}
		return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, obj any) { add(obj) }}
	}
	if _, err := deps.AddEventHandler(handler("deployments", worldKey{})); err != nil {
		return err
	}
	if _, err := daemonSets.AddEventHandler(handler("daemonsets", worldKey{daemonSet: true})); err != nil {
		return err
	}
	if _, err := routes.AddEventHandler(handler("httproutes", worldKey{route: true})); err != nil {
		return err
	}
	w.deployments.Start(ctx.Done())
	w.routes.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), deps.HasSynced, daemonSets.HasSynced, routes.HasSynced) {
		return fmt.Errorf("world: caches did not sync")
	}
	w.act.watch("world", func() bool { return w.queue.Len() > 0 })
	go w.work(ctx)
	return nil
}

// resync looks at every Deployment again: fake time moved, and a
// progress deadline may have passed.
func (w *world) resync() {
	deps, _ := w.deployments.Apps().V1().Deployments().Lister().Deployments(w.ns).List(everything)
	for _, d := range deps {
		w.queue.Add(worldKey{name: d.Name})
	}
	daemonSets, _ := w.deployments.Apps().V1().DaemonSets().Lister().DaemonSets(w.ns).List(everything)
	for _, d := range daemonSets {
		w.queue.Add(worldKey{daemonSet: true, name: d.Name})
	}
}

func (w *world) work(ctx context.Context) {
	for {
		key, shutdown := w.queue.Get()
		if shutdown {
			return
		}
		done := w.act.begin()
		var err error
		switch {
		case key.route:
			err = w.acceptRoute(ctx, key.name)
		case key.daemonSet:
			err = w.rollOutDaemonSet(ctx, key.name)
		default:
			err = w.rollOut(ctx, key.name)
		}
		if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
			w.queue.AddRateLimited(key)
		} else {
			w.queue.Forget(key)
		}
		w.queue.Done(key)
		done()
	}
}

// rollOut writes the status the Deployment controller would.
func (w *world) rollOut(ctx context.Context, name string) error {
	dep, err := w.deployments.Apps().V1().Deployments().Lister().Deployments(w.ns).Get(name)
	if err != nil {
		return err
	}
	want := w.status(dep)
	if equality.Semantic.DeepEqual(dep.Status, want) {
		return nil
	}
	dep = dep.DeepCopy()
	dep.Status = want
	written, err := w.env.kube.AppsV1().Deployments(w.ns).UpdateStatus(ctx, dep, metav1.UpdateOptions{})
	if err == nil {
		w.act.wrote("deployments", resourceVersion(written))
	}
	return err
}

// status computes a Deployment's status from its spec and the world's
// memory of its pods.
func (w *world) status(dep *appsv1.Deployment) appsv1.DeploymentStatus {
	replicas := int32(1)
	if dep.Spec.Replicas != nil {
		replicas = *dep.Spec.Replicas
	}
	image := imageOf(&dep.Spec.Template)
	now := w.clock.Now()
	r := w.rollouts[dep.Name]
	if r == nil {
		r = &rollout{}
		w.rollouts[dep.Name] = r
	}
	broken := w.broken(dep.Name, image)
	if template := fmt.Sprintf("%s×%d", image, replicas); r.template != template {
		r.template, r.since = template, now
		if replicas > 0 && !broken {
			// A timer the driver jumps to: the pods are up then.
			w.clock.NewTimer(podStartup)
		}
	}
	st := appsv1.DeploymentStatus{ObservedGeneration: dep.Generation}
	if replicas == 0 || (!broken && !now.Before(r.since.Add(podStartup))) {
		r.serving = replicas
		st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas = replicas, replicas, replicas, replicas
		st.Conditions = []appsv1.DeploymentCondition{
			condition(appsv1.DeploymentAvailable, corev1.ConditionTrue, "MinimumReplicasAvailable", r.since),
			condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, "NewReplicaSetAvailable", r.since),
		}
		return keepTimes(dep.Status, st)
	}
	// Rolling out: the old pods keep serving, at most as many as wanted,
	// while the new ones start (all of them; a broken template gets one
	// surge pod, which never becomes ready).
	old := min(r.serving, replicas)
	updated := replicas
	if broken {
		updated = 1
	}
	st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas = old+updated, updated, old, old
	st.UnavailableReplicas = replicas - old
	available := condition(appsv1.DeploymentAvailable, corev1.ConditionTrue, "MinimumReplicasAvailable", r.since)
	if old < replicas {
		available = condition(appsv1.DeploymentAvailable, corev1.ConditionFalse, "MinimumReplicasUnavailable", r.since)
	}
	progressing := condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, "ReplicaSetUpdated", r.since)
	deadline := 600 * time.Second
	if dep.Spec.ProgressDeadlineSeconds != nil {
		deadline = time.Duration(*dep.Spec.ProgressDeadlineSeconds) * time.Second
	}
	if broken && !now.Before(r.since.Add(deadline)) {
		progressing = condition(appsv1.DeploymentProgressing, corev1.ConditionFalse, "ProgressDeadlineExceeded", r.since.Add(deadline))
	}
	st.Conditions = []appsv1.DeploymentCondition{available, progressing}
	return keepTimes(dep.Status, st)
}

// rollOutDaemonSet writes the status the DaemonSet controller would, on
// daemonSetNodes nodes, none of which matches the scale-to-zero node
// selector. Its pods start as a Deployment's with one replica per node do.
func (w *world) rollOutDaemonSet(ctx context.Context, name string) error {
	ds, err := w.deployments.Apps().V1().DaemonSets().Lister().DaemonSets(w.ns).Get(name)
	if err != nil {
		return err
	}
	nodes := int32(daemonSetNodes)
	if canary.ScaledToZero(ds) {
		nodes = 0
	}
	st := w.status(&appsv1.Deployment{
		ObjectMeta: ds.ObjectMeta,
		Spec:       appsv1.DeploymentSpec{Replicas: &nodes, Template: ds.Spec.Template},
	})
	want := appsv1.DaemonSetStatus{
		ObservedGeneration:     ds.Generation,
		DesiredNumberScheduled: nodes,
		CurrentNumberScheduled: min(st.Replicas, nodes),
		UpdatedNumberScheduled: st.UpdatedReplicas,
		NumberReady:            st.ReadyReplicas,
		NumberAvailable:        st.AvailableReplicas,
		NumberUnavailable:      nodes - st.AvailableReplicas,
	}
	if equality.Semantic.DeepEqual(ds.Status, want) {
		return nil
	}
	ds = ds.DeepCopy()
	ds.Status = want
	written, err := w.env.kube.AppsV1().DaemonSets(w.ns).UpdateStatus(ctx, ds, metav1.UpdateOptions{})
	if err == nil {
		w.act.wrote("daemonsets", resourceVersion(written))
	}
	return err
}

// image returns the image the Deployment or DaemonSet name runs, "" when
// there is none.
func (w *world) image(name string) string {
	if d, err := w.deployments.Apps().V1().Deployments().Lister().Deployments(w.ns).Get(name); err == nil {
		return imageOf(&d.Spec.Template)
	}
	if d, err := w.deployments.Apps().V1().DaemonSets().Lister().DaemonSets(w.ns).Get(name); err == nil {
		return imageOf(&d.Spec.Template)
	}
	return ""
}

func condition(t appsv1.DeploymentConditionType, s corev1.ConditionStatus, reason string, at time.Time) appsv1.DeploymentCondition {
	return appsv1.DeploymentCondition{Type: t, Status: s, Reason: reason,
		LastUpdateTime: metav1.NewTime(at), LastTransitionTime: metav1.NewTime(at)}
}

// keepTimes keeps the stored timestamps of unchanged conditions, so that
// an unchanged status compares equal and is not written again.
func keepTimes(old, st appsv1.DeploymentStatus) appsv1.DeploymentStatus {
	for i, c := range st.Conditions {
		for _, o := range old.Conditions {
			if o.Type == c.Type && o.Status == c.Status && o.Reason == c.Reason {
				st.Conditions[i].LastUpdateTime, st.Conditions[i].LastTransitionTime = o.LastUpdateTime, o.LastTransitionTime
			}
		}
	}
	return st
}

// acceptRoute writes what a Gateway controller does: every parent accepts
// the route's current generation and resolves its backends.
func (w *world) acceptRoute(ctx context.Context, name string) error {
	route, err := w.routes.Gateway().V1().HTTPRoutes().Lister().HTTPRoutes(w.ns).Get(name)
	if err != nil {
		return err
	}
	var parents []gatewayv1.RouteParentStatus
	for _, ref := range route.Spec.ParentRefs {
		parents = append(parents, gatewayv1.RouteParentStatus{
			ParentRef:      ref,
			ControllerName: gatewayControllerName,
			Conditions: []metav1.Condition{
				{Type: string(gatewayv1.RouteConditionAccepted), Status: metav1.ConditionTrue, Reason: "Accepted",
					ObservedGeneration: route.Generation, LastTransitionTime: metav1.NewTime(epoch)},
				{Type: string(gatewayv1.RouteConditionResolvedRefs), Status: metav1.ConditionTrue, Reason: "ResolvedRefs",
					ObservedGeneration: route.Generation, LastTransitionTime: metav1.NewTime(epoch)},
			},
		})
	}
	if equality.Semantic.DeepEqual(route.Status.Parents, parents) {
		return nil
	}
	route = route.DeepCopy()
	route.Status.Parents = parents
	written, err := w.env.gateway.GatewayV1().HTTPRoutes(w.ns).UpdateStatus(ctx, route, metav1.UpdateOptions{})
	if err == nil {
		w.act.wrote("httproutes", resourceVersion(written))
	}
	return err
}

// resourceVersion returns an object's resourceVersion as a number.
func resourceVersion(obj metav1.Object) uint64 {
	rv, _ := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
	return rv
}

// imageOf is a template's identity in the harness: every template a
// scenario uses differs by its image.
func imageOf(t *corev1.PodTemplateSpec) string {
	if len(t.Spec.Containers) == 0 {
		return ""
	}
	return t.Spec.Containers[0].Image
}
