package stack

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/serin-dev/serin/test/lib/proc"
	"github.com/serin-dev/serin/test/lib/sandbox"
)

// Traefik's addresses in the world. The web entry point listens on every address of the world,
// so Pods reach it through the traefik Service and the demo on 127.0.0.1; a Gateway listener's
// port must equal the entry point's.
const (
	GatewayPort    = 8000
	traefikAdmin   = "127.0.0.1:8080"
	traefikNS      = "traefik"
	traefikService = "traefik"
)

// startTraefik runs Traefik's kubernetesgateway provider out of the cluster, with Prometheus
// metrics per backend Service on the admin entry point.
func (s *Stack) startTraefik(ctx context.Context, bin string) error {
	env, err := exec.LookPath("env")
	if err != nil {
		return err
	}
	// The provider reads its kubeconfig from KUBECONFIG only.
	p, err := proc.Start("traefik", filepath.Join(s.Dir, "traefik.log"), env, "KUBECONFIG="+s.Cluster.KubeconfigPath, bin,
		// No internet here, and no reason to report anything anyway.
		"--global.checkNewVersion=false", "--global.sendAnonymousUsage=false",
		"--entryPoints.web.address=:"+strconv.Itoa(GatewayPort),
		"--entryPoints.traefik.address="+traefikAdmin,
		"--ping=true", "--ping.entryPoint=traefik",
		"--providers.kubernetesgateway=true", "--providers.kubernetesgateway.throttleDuration=0s",
		"--providers.kubernetesgateway.statusAddress.ip="+sandbox.GatewayIP,
		"--metrics.prometheus=true", "--metrics.prometheus.entryPoint=traefik",
		"--metrics.prometheus.addServicesLabels=true",
		"--log.level=INFO",
	)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	if err := waitHTTP(ctx, p, "http://"+traefikAdmin+"/ping"); err != nil {
		return err
	}
	return createTraefikService(ctx, s.Kube)
}

// createTraefikService gives Traefik the Service its Helm chart would: traefik/traefik, port 80
// to the web entry point, so that load tests address the gateway as http://traefik.traefik/.
// Traefik runs in the world, not in a Pod, so the Service has no selector and a hand-written
// EndpointSlice.
func createTraefikService(ctx context.Context, kube kubernetes.Interface) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: traefikNS}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", traefikNS, err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: traefikService, Namespace: traefikNS},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
			Name: "web", Port: 80, TargetPort: intstr.FromInt32(GatewayPort), Protocol: corev1.ProtocolTCP,
		}}},
	}
	if _, err := kube.CoreV1().Services(traefikNS).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the traefik Service: %w", err)
	}
	return createEndpointSlice(ctx, kube, traefikNS, traefikService, "web", GatewayPort)
}

// createEndpointSlice points a selector-less Service's port at the world's own address.
func createEndpointSlice(ctx context.Context, kube kubernetes.Interface, ns, svc, portName string, port int32) error {
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: svc + "-world", Namespace: ns,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc, discoveryv1.LabelManagedBy: "serin-test-stack"},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{sandbox.GatewayIP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(portName), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	_, err := kube.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating the EndpointSlice of %s/%s: %w", ns, svc, err)
	}
	return nil
}
