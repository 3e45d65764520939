package controller

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Drift repair. An idle canary (Initialized, Succeeded, Failed) is synced
// only when an informer event wakes it, so that a fleet of idle canaries
// costs no API request; its sync then re-creates or corrects what the
// canary manages (analysis: EnsurePrimary, ReconcileRouting). So every
// object an idle sync repairs wakes its canary when someone else deletes or
// changes it:
//
//   - the primary Deployment: the Deployment handlers (wakeForDeployment,
//     by controller reference);
//   - the apex, -primary and -canary Services: serviceUpdated and
//     serviceDeleted, found by name (serviceIndex);
//   - the HTTPRoute: the route informers (enqueueOwner);
//   - the primary HorizontalPodAutoscaler: its deletion only, since an idle
//     sync re-creates a missing copy but leaves an existing one alone
//     (autoscaling changes ship with a release), and the HPA controller
//     writes every HPA's status every 15 seconds.
//
// Unlike Flagger, which re-reads and re-applies them on every interval of
// every canary, drift is repaired when it happens, not up to an interval
// later, and an idle canary costs nothing in between.

// serviceIndex indexes canaries by "<namespace>/<name>" of each Service
// they manage (apex, -primary, -canary). Services are found by name, as the
// router finds them, rather than by owner reference: an apex Service that
// the user created is adopted, not owned.
const serviceIndex = "service"

func indexByService(obj any) ([]string, error) {
	cd, ok := obj.(*flaggerv1.Canary)
	if !ok {
		return nil, nil
	}
	apex, primary, canary := cd.GetServiceNames()
	return []string{cd.Namespace + "/" + apex, cd.Namespace + "/" + primary, cd.Namespace + "/" + canary}, nil
}

// serviceUpdated wakes the canary of a Service whose spec or metadata
// changed: a selector reset by hand sends the apex's traffic elsewhere. A
// status-only update does not wake it.
func (c *Controller) serviceUpdated(oldObj, newObj any) {
	old, okOld := oldObj.(*corev1.Service)
	cur, okCur := newObj.(*corev1.Service)
	if !okOld || !okCur {
		return
	}
	if equality.Semantic.DeepEqual(old.Spec, cur.Spec) && equality.Semantic.DeepEqual(old.Labels, cur.Labels) &&
		equality.Semantic.DeepEqual(old.Annotations, cur.Annotations) &&
		equality.Semantic.DeepEqual(old.OwnerReferences, cur.OwnerReferences) {
		return
	}
	c.enqueueByService(cur.Namespace, cur.Name)
}

// serviceDeleted wakes the canary of a deleted Service.
func (c *Controller) serviceDeleted(obj any) {
	if key, ok := c.keyOf(obj); ok {
		c.enqueueByService(key.Namespace, key.Name)
	}
}

// enqueueByService wakes the canaries that manage the Service
// namespace/name.
func (c *Controller) enqueueByService(namespace, name string) {
	objs, err := c.canaryIndexer.ByIndex(serviceIndex, namespace+"/"+name)
	if err != nil {
		c.log.WithError(err).Warn("Cannot look up canaries by service")
		return
	}
	for _, obj := range objs {
		c.enqueue(obj)
	}
}
