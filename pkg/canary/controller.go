package canary

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/utils/clock"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// DefaultSelectorLabels is the default of the -selector-labels flag: the pod
// label keys tried, in order, to tell the target's pods from the primary's.
const DefaultSelectorLabels = "app,name,app.kubernetes.io/name"

// PrimarySuffix is appended to the names of the objects Serin creates for the
// primary, and to the selector label value of the primary's pods.
const PrimarySuffix = "-primary"

// Config holds what a Deployments needs. The listers must be backed
// by informers that main starts; the controller never writes to them.
type Config struct {
	// KubeClient performs all writes.
	KubeClient kubernetes.Interface
	// Deployments lists apps/v1 Deployments.
	Deployments appslisters.DeploymentLister
	// DaemonSets lists apps/v1 DaemonSets; nil refuses DaemonSet targets.
	DaemonSets appslisters.DaemonSetLister
	// HPAs lists autoscaling/v2 HorizontalPodAutoscalers.
	HPAs autoscalinglisters.HorizontalPodAutoscalerLister
	// ScaledObjects reaches KEDA's ScaledObjects; nil when the cluster does
	// not serve them, and a canary whose autoscalerRef is a ScaledObject is
	// then refused with ErrKEDANotInstalled.
	ScaledObjects *ScaledObjectStore
	// ConfigMaps lists ConfigMaps; not needed when DisableConfigTracking is set.
	ConfigMaps corelisters.ConfigMapLister
	// Secrets reads Secrets (pkg/secretcache); not needed when
	// DisableConfigTracking is set.
	Secrets SecretGetter

	// SelectorLabels are the pod label keys tried, in order; empty means
	// DefaultSelectorLabels.
	SelectorLabels []string
	// IncludeLabelPrefix lists the label (and annotation) key prefixes copied
	// to primary objects; "*" copies all, empty entries are ignored.
	IncludeLabelPrefix []string
	// DisableConfigTracking turns ConfigMap and Secret tracking off
	// (-enable-config-tracking=false).
	DisableConfigTracking bool

	// Clock is read by the readiness checks; nil means the real clock.
	Clock clock.PassiveClock
	// NewID returns the value of the flagger-id pod annotation written on
	// every create and promotion; nil means a random UUID.
	NewID func() string
}

// SecretGetter reads a Secret with its data. A missing Secret is a NotFound
// error. The Secret returned is shared: callers must not change it.
type SecretGetter interface {
	Get(namespace, name string) (*corev1.Secret, error)
	// ControlledBy returns the Secrets of namespace that the object with
	// uid controls.
	ControlledBy(namespace string, uid types.UID) ([]*corev1.Secret, error)
}

// Deployments manages the primary workload and its companions for
// Canaries whose target is a Deployment or a DaemonSet: what differs
// between the two is a workloadKind, the rest is written once. It is safe
// for concurrent use.
type Deployments struct {
	kube           kubernetes.Interface
	deployments    appslisters.DeploymentLister
	deploymentKind workloadKind
	daemonSetKind  workloadKind
	hpas           autoscalinglisters.HorizontalPodAutoscalerLister
	keda           *ScaledObjectStore
	configMaps     corelisters.ConfigMapLister
	secrets        SecretGetter
	selectorLabels []string
	includePrefix  []string
	trackConfigs   bool
	clock          clock.PassiveClock
	newID          func() string
}

// NewDeployments checks cfg and returns a controller built from it.
func NewDeployments(cfg Config) (*Deployments, error) {
	var missing []string
	if cfg.KubeClient == nil {
		missing = append(missing, "KubeClient")
	}
	if cfg.Deployments == nil {
		missing = append(missing, "Deployments")
	}
	if cfg.HPAs == nil {
		missing = append(missing, "HPAs")
	}
	if !cfg.DisableConfigTracking && (cfg.ConfigMaps == nil || cfg.Secrets == nil) {
		missing = append(missing, "ConfigMaps and Secrets (or DisableConfigTracking)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("canary: config is missing %s", strings.Join(missing, ", "))
	}
	c := &Deployments{
		kube:           cfg.KubeClient,
		deployments:    cfg.Deployments,
		hpas:           cfg.HPAs,
		keda:           cfg.ScaledObjects,
		configMaps:     cfg.ConfigMaps,
		secrets:        cfg.Secrets,
		selectorLabels: cfg.SelectorLabels,
		includePrefix:  cfg.IncludeLabelPrefix,
		trackConfigs:   !cfg.DisableConfigTracking,
		clock:          cfg.Clock,
		newID:          cfg.NewID,
	}
	if len(c.selectorLabels) == 0 {
		c.selectorLabels = strings.Split(DefaultSelectorLabels, ",")
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.newID == nil {
		c.newID = func() string { return string(uuid.NewUUID()) }
	}
	c.deploymentKind = deploymentKind{kube: cfg.KubeClient, deployments: cfg.Deployments, autoscalerMin: c.autoscalerMin}
	if cfg.DaemonSets != nil {
		c.daemonSetKind = daemonSetKind{kube: cfg.KubeClient, daemonSets: cfg.DaemonSets}
	}
	return c, nil
}

// PrimaryName returns the name of the primary Deployment of a canary.
func PrimaryName(cd *flaggerv1.Canary) string {
	return cd.Spec.TargetRef.Name + PrimarySuffix
}

// getDeployment reads a Deployment from the lister. The returned object
// belongs to the cache: callers deep-copy before changing it.
func (c *Deployments) getDeployment(namespace, name string) (*appsv1.Deployment, error) {
	dep, err := c.deployments.Deployments(namespace).Get(name)
	if err != nil {
		return nil, fmt.Errorf("deployment %s.%s get query error: %w", name, namespace, err)
	}
	return dep, nil
}

// target returns the canary's target Deployment and its selector label:
// what the judge's baseline, made for Deployments only, is built from.
func (c *Deployments) target(cd *flaggerv1.Canary) (*appsv1.Deployment, Selector, error) {
	_, w, sel, err := c.targetWorkload(cd)
	if err != nil {
		return nil, Selector{}, err
	}
	dep, ok := w.listedObject.(*appsv1.Deployment)
	if !ok {
		return nil, Selector{}, syncerr.Permanent(fmt.Errorf("spec.targetRef.kind: %w: only a Deployment can have a baseline",
			ErrUnsupportedTarget))
	}
	return dep, sel, nil
}

// ownerRef makes the controller reference that ties an object to its Canary.
func ownerRef(cd *flaggerv1.Canary) metav1.OwnerReference {
	return owners.Canary(cd)
}

// targetOwner makes the plain owner reference to the target that every
// object created for a canary carries besides ownerRef (see pkg/owners).
func targetOwner(target metav1.Object) metav1.OwnerReference {
	if _, ok := target.(*appsv1.DaemonSet); ok {
		return owners.TargetKind(DaemonSetKind, target.GetName(), target.GetUID())
	}
	if w, ok := target.(workload); ok {
		return targetOwner(w.listedObject)
	}
	return owners.Target(target.GetName(), target.GetUID())
}
