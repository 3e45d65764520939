package router

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// serviceRole names one of the three Services of a canary.
type serviceRole int

const (
	roleApex serviceRole = iota
	rolePrimary
	roleCanary
)

// desiredService builds the Service of one role as the router would create
// it: the apex and primary Services select the primary pods
// ("<label>: <value>-primary"), the canary Service the target pods
// ("<label>: <value>"). Each carries its service.apex/primary/canary
// metadata plus "<label>: <its own name>", a controller reference to the
// Canary and an owner reference to the target.
func desiredService(cd *flaggerv1.Canary, role serviceRole, target Target) *corev1.Service {
	apex, primary, canary := cd.GetServiceNames()
	svc := &cd.Spec.Service
	name, meta, selectorValue := apex, svc.Apex, target.SelectorValue+"-primary"
	switch role {
	case rolePrimary:
		name, meta = primary, svc.Primary
	case roleCanary:
		name, meta, selectorValue = canary, svc.Canary, target.SelectorValue
	}

	labels := map[string]string{}
	var annotations map[string]string
	if meta != nil {
		for k, v := range meta.Labels {
			labels[k] = v
		}
		for k, v := range meta.Annotations {
			if annotations == nil {
				annotations = map[string]string{}
			}
			annotations[k] = v
		}
	}
	labels[target.SelectorLabel] = name

	out := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       cd.Namespace,
			Labels:          labels,
			Annotations:     annotations,
			OwnerReferences: owners.Of(cd, target.Owner),
		},
		Spec: corev1.ServiceSpec{
			Type:                corev1.ServiceTypeClusterIP,
			Selector:            map[string]string{target.SelectorLabel: selectorValue},
			Ports:               servicePorts(cd, target),
			TrafficDistribution: copyPtr(svc.TrafficDistribution),
		},
	}
	if svc.Headless {
		out.Spec.ClusterIP = corev1.ClusterIPNone
	}
	return out
}

// servicePorts returns the main port (name defaulting to http, target port
// to the port, appProtocol see servicePortAppProtocol) followed, with portDiscovery, by the target's other ports
// sorted by name.
func servicePorts(cd *flaggerv1.Canary, target Target) []corev1.ServicePort {
	svc := &cd.Spec.Service
	name := svc.GetPortName()
	targetPort := svc.TargetPort
	if targetPort.Type == intstr.Int && targetPort.IntVal == 0 {
		targetPort = intstr.FromInt32(svc.Port)
	}
	ports := []corev1.ServicePort{{
		Name:        name,
		Protocol:    corev1.ProtocolTCP,
		Port:        svc.Port,
		TargetPort:  targetPort,
		AppProtocol: servicePortAppProtocol(cd),
	}}
	if !svc.PortDiscovery {
		return ports
	}
	for _, n := range sortedKeys(target.Ports) {
		p := target.Ports[n]
		if n == name || p == svc.Port {
			continue
		}
		ports = append(ports, corev1.ServicePort{
			Name:       n,
			Protocol:   corev1.ProtocolTCP,
			Port:       p,
			TargetPort: intstr.FromInt32(p),
		})
	}
	return ports
}

// mergeService returns a copy of live with the desired selector, ports and
// traffic distribution. Node ports are kept. Metadata is replaced only when
// managed (the Service is the Canary's), and even then the keys listed in
// unmanagedMetadata keep their live values; an adopted Service keeps its
// metadata. The cluster IP is immutable and is left alone, so headless
// only applies to Services the router creates.
func mergeService(live, desired *corev1.Service, managed bool, unmanaged *flaggerv1.UnmanagedMetadata) *corev1.Service {
	out := live.DeepCopy()
	out.Spec.Selector = desired.Spec.Selector
	out.Spec.TrafficDistribution = desired.Spec.TrafficDistribution
	out.Spec.Ports = make([]corev1.ServicePort, len(desired.Spec.Ports))
	for i, p := range desired.Spec.Ports {
		p.NodePort = nodePort(live.Spec.Ports, p)
		out.Spec.Ports[i] = p
	}
	if managed {
		var labelKeys, annotationKeys []string
		if unmanaged != nil {
			labelKeys, annotationKeys = unmanaged.Labels, unmanaged.Annotations
		}
		out.Labels = keepKeys(desired.Labels, live.Labels, labelKeys)
		out.Annotations = keepKeys(desired.Annotations, live.Annotations, annotationKeys)
	}
	return out
}

func nodePort(live []corev1.ServicePort, want corev1.ServicePort) int32 {
	for _, p := range live {
		if p.Name == want.Name && p.Port == want.Port {
			return p.NodePort
		}
	}
	return 0
}

// keepKeys returns desired with the live values of keys.
func keepKeys(desired, live map[string]string, keys []string) map[string]string {
	out := make(map[string]string, len(desired)+len(keys))
	for k, v := range desired {
		out[k] = v
	}
	for _, k := range keys {
		if v, ok := live[k]; ok {
			out[k] = v
		}
	}
	return out
}

func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	return ptrTo(*p)
}
