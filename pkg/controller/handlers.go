package controller

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
)

// registerHandlers registers the informer event handlers, this file's
// subject: what wakes a canary, and how urgently (see scheduler.go for
// when it then runs).
func (c *Controller) registerHandlers() error {
	canaries := c.cfg.FlaggerInformers.Flagger().V1beta1().Canaries().Informer()
	deployments := c.cfg.KubeInformers.Apps().V1().Deployments().Informer()
	daemonSets := c.cfg.KubeInformers.Apps().V1().DaemonSets().Informer()
	configMaps := c.cfg.KubeInformers.Core().V1().ConfigMaps().Informer()
	services := c.cfg.KubeInformers.Core().V1().Services().Informer()
	autoscalers := c.cfg.KubeInformers.Autoscaling().V2().HorizontalPodAutoscalers().Informer()

	handlers := []struct {
		informer cache.SharedIndexInformer
		handler  cache.ResourceEventHandler
	}{
		{canaries, cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueue,
			UpdateFunc: c.canaryUpdated,
			DeleteFunc: c.canaryDeleted,
		}},
		{deployments, cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueForDeployment,
			UpdateFunc: c.deploymentUpdated,
			DeleteFunc: c.enqueueForDeployment,
		}},
		{daemonSets, cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueForDeployment,
			UpdateFunc: c.daemonSetUpdated,
			DeleteFunc: c.enqueueForDeployment,
		}},
		{configMaps, cache.ResourceEventHandlerFuncs{
			UpdateFunc: c.configUpdated,
		}},
		// What an idle sync repairs wakes its canary (see owned.go).
		{services, cache.ResourceEventHandlerFuncs{
			UpdateFunc: c.serviceUpdated,
			DeleteFunc: c.serviceDeleted,
		}},
		{autoscalers, cache.ResourceEventHandlerFuncs{
			DeleteFunc: c.enqueueOwner,
		}},
	}
	if c.cfg.SecretInformer != nil {
		handlers = append(handlers, struct {
			informer cache.SharedIndexInformer
			handler  cache.ResourceEventHandler
		}{c.cfg.SecretInformer, cache.ResourceEventHandlerFuncs{UpdateFunc: c.configUpdated}})
	}
	if c.cfg.ScaledObjectInformer != nil {
		// As for HPAs (owned.go): only a deleted primary copy needs an
		// idle sync; a target resumed by hand lets KEDA scale the target
		// up, and that Deployment change wakes the canary to pause it again.
		handlers = append(handlers, struct {
			informer cache.SharedIndexInformer
			handler  cache.ResourceEventHandler
		}{c.cfg.ScaledObjectInformer, cache.ResourceEventHandlerFuncs{DeleteFunc: c.enqueueOwner}})
	}
	if err := canaries.AddIndexers(cache.Indexers{routeIndex: indexByRoute}); err != nil {
		return fmt.Errorf("add canary route indexer: %w", err)
	}
	for _, inf := range c.cfg.RouteInformers {
		handlers = append(handlers, struct {
			informer cache.SharedIndexInformer
			handler  cache.ResourceEventHandler
		}{inf, cache.ResourceEventHandlerFuncs{
			AddFunc:    c.routeEvent,
			UpdateFunc: func(_, obj any) { c.routeEvent(obj) },
			DeleteFunc: c.routeEvent,
		}})
	}
	for _, h := range handlers {
		if _, err := h.informer.AddEventHandler(h.handler); err != nil {
			return fmt.Errorf("add event handler: %w", err)
		}
		c.synced = append(c.synced, h.informer.HasSynced)
	}
	c.synced = append(c.synced,
		c.cfg.FlaggerInformers.Flagger().V1beta1().MetricTemplates().Informer().HasSynced,
		c.cfg.FlaggerInformers.Flagger().V1beta1().AlertProviders().Informer().HasSynced,
	)
	c.synced = append(c.synced, c.cfg.Plugins.Synced...)
	return nil
}

func (c *Controller) enqueue(obj any) {
	if key, ok := c.keyOf(obj); ok {
		c.queue.Add(key)
	}
}

// canaryUpdated ignores the status writes of our own syncs: only spec,
// metadata that drives deletion, and finalizers wake the canary. An update
// that brings another UID is a canary deleted and re-created while the
// watch was down (a relist reports it so): the old one's memory goes, as on
// a deletion.
func (c *Controller) canaryUpdated(oldObj, newObj any) {
	old, cur := oldObj.(*flaggerv1.Canary), newObj.(*flaggerv1.Canary)
	key := cache.ObjectName{Namespace: cur.Namespace, Name: cur.Name}
	if old.UID != cur.UID {
		c.gone(key)
		c.queue.Add(key)
		return
	}
	if c.expected.observe(key, cur) {
		// Our own write arrived: a sync that waited for it may go on.
		c.queue.Add(key)
		return
	}
	// A new request (requests.go in pkg/analysis) changes only annotations.
	requested := analysis.PendingRequest(cur) != "" && analysis.PendingRequest(cur) != analysis.PendingRequest(old)
	if old.Generation == cur.Generation && cur.DeletionTimestamp.Equal(old.DeletionTimestamp) &&
		equality.Semantic.DeepEqual(old.Finalizers, cur.Finalizers) && !requested {
		return
	}
	if old.Generation != cur.Generation || !cur.DeletionTimestamp.Equal(old.DeletionTimestamp) || requested {
		c.schedule.changedBy(key, cur.UID)
	}
	c.queue.Add(key)
}

func (c *Controller) canaryDeleted(obj any) {
	if key, ok := c.keyOf(obj); ok {
		c.gone(key)
		c.queue.Add(key)
	}
}

// gone drops everything the controller remembers about the canary under
// key, which no longer exists: its schedule, the write it waited for, and
// the rate limiter's backoff, so that a canary re-created under the same
// name starts afresh. A sync of the deleted canary that was in flight may
// still record some of it after this; what it records carries the deleted
// canary's UID (or none), and the re-created canary's first sync ignores
// it (schedule.identify, expectations.wait).
func (c *Controller) gone(key cache.ObjectName) {
	c.schedule.drop(key)
	c.expected.forget(key)
	c.queue.Forget(key)
}

// enqueueOwner wakes the canary that controls obj.
func (c *Controller) enqueueOwner(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	o, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	if owner := ownerCanary(o.GetOwnerReferences()); owner != "" {
		c.queue.Add(cache.ObjectName{Namespace: o.GetNamespace(), Name: owner})
	}
}

// enqueueForDeployment wakes the canaries that target a Deployment or a
// DaemonSet, or own it (the primary).
func (c *Controller) enqueueForDeployment(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	switch obj.(type) {
	case *appsv1.Deployment, *appsv1.DaemonSet:
		c.wakeForDeployment(obj.(metav1.Object), false)
	}
}

// deploymentUpdated wakes the canaries of a Deployment; a new pod template
// on a target is a user's change, which goes ahead in the queue.
func (c *Controller) deploymentUpdated(oldObj, newObj any) {
	old, okOld := oldObj.(*appsv1.Deployment)
	cur, okCur := newObj.(*appsv1.Deployment)
	if okOld && okCur {
		c.wakeForDeployment(cur, old.Generation != cur.Generation &&
			!equality.Semantic.DeepEqual(old.Spec.Template, cur.Spec.Template))
	}
}

// daemonSetUpdated is deploymentUpdated for DaemonSets. The scale-to-zero
// node selector is Serin's own write to the template, not a user's change.
func (c *Controller) daemonSetUpdated(oldObj, newObj any) {
	old, okOld := oldObj.(*appsv1.DaemonSet)
	cur, okCur := newObj.(*appsv1.DaemonSet)
	if okOld && okCur {
		c.wakeForDeployment(cur, old.Generation != cur.Generation &&
			!equality.Semantic.DeepEqual(canary.DaemonSetRevisionTemplate(old), canary.DaemonSetRevisionTemplate(cur)))
	}
}

// wakeForDeployment wakes the canary that owns d, a Deployment or a
// DaemonSet (d is a primary, whose template is ours), and the canaries that
// target it, marking the latter as changed by a user when d has a new pod
// template.
func (c *Controller) wakeForDeployment(d metav1.Object, revised bool) {
	if owner := ownerCanary(d.GetOwnerReferences()); owner != "" {
		c.queue.Add(cache.ObjectName{Namespace: d.GetNamespace(), Name: owner})
	}
	c.enqueueByTarget(d.GetNamespace(), d.GetName(), revised)
}

// enqueueByTarget wakes the canaries that target a Deployment; revised
// marks them as changed by a user first.
func (c *Controller) enqueueByTarget(namespace, name string, revised bool) {
	objs, err := c.canaryIndexer.ByIndex(targetIndex, namespace+"/"+name)
	if err != nil {
		c.log.WithError(err).Warn("Cannot look up canaries by target")
		return
	}
	for _, obj := range objs {
		key, ok := c.keyOf(obj)
		if !ok {
			continue
		}
		if revised {
			c.schedule.changedBy(key, obj.(*flaggerv1.Canary).UID)
		}
		c.queue.Add(key)
	}
}

// configUpdated wakes the canaries of the namespace when a ConfigMap or
// Secret changes: config tracking decides whether it is theirs, from the
// listers, at no API cost.
func (c *Controller) configUpdated(oldObj, newObj any) {
	var namespace string
	switch o := newObj.(type) {
	case *corev1.ConfigMap:
		if equality.Semantic.DeepEqual(oldObj.(*corev1.ConfigMap).Data, o.Data) &&
			equality.Semantic.DeepEqual(oldObj.(*corev1.ConfigMap).BinaryData, o.BinaryData) {
			return
		}
		namespace = o.Namespace
	case *corev1.Secret:
		if equality.Semantic.DeepEqual(oldObj.(*corev1.Secret).Data, o.Data) {
			return
		}
		namespace = o.Namespace
	case *metav1.PartialObjectMetadata:
		// Only the metadata is known: any change may be one of the data.
		if oldObj.(*metav1.PartialObjectMetadata).ResourceVersion == o.ResourceVersion {
			return // a resync
		}
		namespace = o.Namespace
	default:
		return
	}
	canaries, err := c.canaries.Canaries(namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, cd := range canaries {
		c.enqueue(cd)
	}
}

func (c *Controller) keyOf(obj any) (cache.ObjectName, bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	key, err := cache.ObjectToName(obj)
	if err != nil {
		c.log.WithError(err).Warn("Cannot compute the key of an object")
		return cache.ObjectName{}, false
	}
	return key, true
}

func indexByTarget(obj any) ([]string, error) {
	cd, ok := obj.(*flaggerv1.Canary)
	if !ok {
		return nil, nil
	}
	return []string{cd.Namespace + "/" + cd.Spec.TargetRef.Name}, nil
}

// ownerCanary returns the name of the Canary that controls an object, if any.
func ownerCanary(refs []metav1.OwnerReference) string {
	for _, ref := range refs {
		if ref.Controller != nil && *ref.Controller && ref.Kind == "Canary" &&
			ref.APIVersion == flaggerv1.SchemeGroupVersion.String() {
			return ref.Name
		}
	}
	return ""
}
