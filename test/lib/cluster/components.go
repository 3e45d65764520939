package cluster

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
)

// Address plan. Pod CIDRs are handed to nodes by kube-controller-manager (node IPAM), and KWOK
// assigns pod IPs from them; kwokFallbackCIDR is used only for a node without one.
const (
	clusterCIDR      = "10.244.0.0/16"
	kwokFallbackCIDR = "10.245.0.1/16"
	kwokNodeIP       = "10.1.0.1"
	loopback         = "127.0.0.1"
)

// component is how to run one control-plane process and how to tell that it is ready.
type component struct {
	name    string
	bin     string
	args    []string
	ready   probe
	timeout time.Duration
}

// portSet holds the loopback ports of one cluster.
type portSet struct {
	etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok int
}

func newPortSet() (portSet, error) {
	p, err := freePorts(6)
	if err != nil {
		return portSet{}, err
	}
	return portSet{p[0], p[1], p[2], p[3], p[4], p[5]}, nil
}

func hostPort(port int) string { return loopback + ":" + strconv.Itoa(port) }

func etcdComponent(dir string, bins *binaries, ports portSet) component {
	client := "http://" + hostPort(ports.etcdClient)
	peer := "http://" + hostPort(ports.etcdPeer)
	return component{
		name: "etcd",
		bin:  bins.etcd,
		args: []string{
			"--name", "serin", "--data-dir", filepath.Join(dir, "etcd"),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", "serin=" + peer,
			// Test data is disposable; fsync would only slow every write down.
			"--unsafe-no-fsync=true", "--log-level", "warn",
		},
		ready:   httpProbe(plainClient, client+"/health"),
		timeout: 30 * time.Second,
	}
}

func apiserverComponent(dir string, bins *binaries, ports portSet, cr *credentials, extra []string) (component, error) {
	client, err := rest.HTTPClientFor(cr.admin)
	if err != nil {
		return component{}, err
	}
	client.Timeout = 5 * time.Second
	args := []string{
		"--etcd-servers", "http://" + hostPort(ports.etcdClient),
		"--bind-address", loopback, "--advertise-address", loopback,
		"--secure-port", strconv.Itoa(ports.apiserver),
		// A loopback advertise address is refused by the endpoint reconciler; nothing here needs
		// the kubernetes Service's endpoints.
		"--endpoint-reconciler-type", "none",
		"--tls-cert-file", cr.servingCert, "--tls-private-key-file", cr.servingKey,
		"--client-ca-file", cr.caFile, "--token-auth-file", cr.tokenFile,
		"--service-account-issuer", serviceAccountIssuer,
		"--service-account-key-file", cr.saPub, "--service-account-signing-key-file", cr.saKey,
		"--service-cluster-ip-range", serviceCIDR,
		"--authorization-mode", "RBAC", "--allow-privileged=true", "--profiling=false",
		// Without a request-header CA the controller manager and scheduler log errors in a loop.
		"--requestheader-client-ca-file", cr.caFile, "--requestheader-allowed-names", "front-proxy-client",
		"--requestheader-username-headers", "X-Remote-User", "--requestheader-group-headers", "X-Remote-Group",
		"--requestheader-extra-headers-prefix", "X-Remote-Extra-",
		"--cert-dir", filepath.Join(dir, "kube-apiserver"),
	}
	return component{
		name:    "kube-apiserver",
		bin:     bins.apiserver,
		args:    append(args, extra...),
		ready:   httpProbe(client, cr.admin.Host+"/readyz"),
		timeout: 90 * time.Second,
	}, nil
}

func controllerManagerComponent(dir string, bins *binaries, ports portSet, cr *credentials, extra []string) component {
	kc := cr.kubeconfigs["kube-controller-manager"]
	args := []string{
		"--kubeconfig", kc, "--authentication-kubeconfig", kc, "--authorization-kubeconfig", kc,
		"--bind-address", loopback, "--secure-port", strconv.Itoa(ports.controllerManager),
		"--cert-dir", filepath.Join(dir, "kube-controller-manager"), "--leader-elect=false",
		"--service-account-private-key-file", cr.saKey, "--root-ca-file", cr.caFile,
		// Per-controller ServiceAccount credentials delay every controller by ~5 s at start-up
		// (each gets its ServiceAccount and a token first); it runs as system:masters instead.
		"--use-service-account-credentials=false",
		"--allocate-node-cidrs=true", "--cluster-cidr", clusterCIDR, "--node-cidr-mask-size", "24",
		"--service-cluster-ip-range", serviceCIDR,
	}
	return component{
		name:    "kube-controller-manager",
		bin:     bins.controllerManager,
		args:    append(args, extra...),
		ready:   httpProbe(insecureClient, fmt.Sprintf("https://%s/healthz", hostPort(ports.controllerManager))),
		timeout: 60 * time.Second,
	}
}

func schedulerComponent(dir string, bins *binaries, ports portSet, cr *credentials) component {
	kc := cr.kubeconfigs["kube-scheduler"]
	return component{
		name: "kube-scheduler",
		bin:  bins.scheduler,
		args: []string{
			"--kubeconfig", kc, "--authentication-kubeconfig", kc, "--authorization-kubeconfig", kc,
			"--bind-address", loopback, "--secure-port", strconv.Itoa(ports.scheduler),
			"--cert-dir", filepath.Join(dir, "kube-scheduler"), "--leader-elect=false",
		},
		ready:   httpProbe(insecureClient, fmt.Sprintf("https://%s/healthz", hostPort(ports.scheduler))),
		timeout: 60 * time.Second,
	}
}

func kwokComponent(bins *binaries, ports portSet, cr *credentials) component {
	args := []string{
		"--kubeconfig", cr.kubeconfigs["kwok"],
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=" + fakeNodeAnnotation + "=fake",
		"--node-lease-duration-seconds=40", "--cidr", kwokFallbackCIDR, "--node-ip", kwokNodeIP,
		"--server-address", hostPort(ports.kwok),
	}
	// Without stages KWOK refuses to start ("no stages found").
	for _, s := range bins.kwokStages {
		args = append(args, "--config", s)
	}
	return component{
		name:    "kwok",
		bin:     bins.kwok,
		args:    args,
		ready:   httpProbe(plainClient, fmt.Sprintf("http://%s/healthz", hostPort(ports.kwok))),
		timeout: 30 * time.Second,
	}
}
