package canary

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Selector is the pod label that tells the target's pods (Key=Value) from the
// primary's (Key=Value-primary). The Services select on it too.
type Selector struct {
	Key   string
	Value string
}

// PrimaryValue is the label value of the primary's pods.
func (s Selector) PrimaryValue() string { return s.Value + PrimarySuffix }

// SelectorLabelError says that a target's spec.selector.matchLabels has
// none of the selector label keys. The user has to fix the target (or the
// -selector-labels flag); retrying without a change cannot help.
type SelectorLabelError struct {
	// Kind is the target's kind in lower case: deployment or daemonset.
	Kind            string
	Name, Namespace string
	// Labels are the keys that were tried.
	Labels []string
}

// Error matches Flagger's text, which users grep events for.
func (e *SelectorLabelError) Error() string {
	kind := e.Kind
	if kind == "" {
		kind = "deployment"
	}
	return fmt.Sprintf("%s %s.%s spec.selector.matchLabels must contain one of %v",
		kind, e.Name, e.Namespace, e.Labels)
}

// FindSelector returns the first of labels found in the Deployment's
// spec.selector.matchLabels, with its value.
func FindSelector(dep *appsv1.Deployment, labels []string) (Selector, error) {
	return findSelector("deployment", dep, dep.Spec.Selector, labels)
}

// findSelector returns the first of labels found in selector, the
// spec.selector of obj, a workload of kind.
func findSelector(kind string, obj metav1.Object, selector *metav1.LabelSelector, labels []string) (Selector, error) {
	if selector != nil {
		for _, key := range labels {
			if value, ok := selector.MatchLabels[key]; ok {
				return Selector{Key: key, Value: value}, nil
			}
		}
	}
	return Selector{}, &SelectorLabelError{
		Kind: kind, Name: obj.GetName(), Namespace: obj.GetNamespace(), Labels: append([]string(nil), labels...),
	}
}

// Metadata is what the Services need to know about the target.
type Metadata struct {
	Selector Selector
	// Ports are the extra container ports found when spec.service.portDiscovery
	// is set, by port name; nil otherwise.
	Ports map[string]int32
	// Owner is the target's owner reference, which every object created for
	// the canary carries (see pkg/owners).
	Owner metav1.OwnerReference
}

// GetMetadata reads the target and returns its selector label and, with
// port discovery, its other container ports.
func (c *Deployments) GetMetadata(ctx context.Context, cd *flaggerv1.Canary) (Metadata, error) {
	_, target, sel, err := c.targetWorkload(cd)
	if err != nil {
		return Metadata{}, err
	}
	md := Metadata{Selector: sel, Owner: targetOwner(target)}
	if cd.Spec.Service.PortDiscovery {
		md.Ports = DiscoverPorts(cd.Spec.Service, target.template.Spec.Containers)
	}
	return md, nil
}

// meshSidecars are proxy containers whose ports are never exposed.
var meshSidecars = map[string]bool{"istio-proxy": true, "envoy": true}

// DiscoverPorts returns the container ports other than the Service's main
// one, skipping mesh sidecars. An unnamed port is called tcp-<container>-<i>.
func DiscoverPorts(svc flaggerv1.CanaryService, containers []corev1.Container) map[string]int32 {
	ports := make(map[string]int32)
	for _, ctr := range containers {
		if meshSidecars[ctr.Name] {
			continue
		}
		for i, p := range ctr.Ports {
			if isMainPort(svc, p) {
				continue
			}
			name := p.Name
			if name == "" {
				name = fmt.Sprintf("tcp-%s-%d", ctr.Name, i)
			}
			ports[name] = p.ContainerPort
		}
	}
	return ports
}

// isMainPort reports whether a container port is the one the Service's
// targetPort (or, when unset, port) already exposes.
func isMainPort(svc flaggerv1.CanaryService, p corev1.ContainerPort) bool {
	tp := svc.TargetPort
	switch {
	case tp.Type == intstr.String && tp.StrVal != "":
		return p.Name == tp.StrVal
	case tp.Type == intstr.Int && tp.IntVal != 0:
		return p.ContainerPort == tp.IntVal
	default:
		return p.ContainerPort == svc.Port
	}
}
