package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/testbin"
)

// operatorUser is the operator's own identity (a client certificate in
// system:masters): the audit policy records this user's requests only.
const operatorUser = "serin-bench-operator"

// Address plan beyond the harness' defaults. Every canary owns three
// Services, so the service range is a /16 (about 21,000 canaries); pods get
// /20 ranges per node, so that a few fat nodes hold thousands of pods.
const (
	serviceCIDR  = "10.0.0.0/16"
	nodeCIDRMask = "20"
	podsPerNode  = 3000
)

// auditPolicy records the operator's requests with their metadata and
// nothing else; a watch is recorded when it starts and when it ends.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  users: ["` + operatorUser + `"]
- level: None
`

// env is the running cluster and the clients the bench acts with.
type env struct {
	cluster  *cluster.Cluster
	dir      string // the bench's own files: audit log, operator binary, log and kubeconfig
	auditLog string
	// admin clients have no client-side rate limit: the bench should not
	// be what a measurement waits for.
	admin   *rest.Config
	kube    kubernetes.Interface
	flagger clientset.Interface
	gateway gatewayclient.Interface
	nodes   []string
}

// startEnv starts the control plane sized for cfg.n canaries.
func startEnv(ctx context.Context, cfg config) (*env, error) {
	dir, err := os.MkdirTemp("", "serin-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, auditLog: filepath.Join(dir, "audit.log")}
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
		return nil, err
	}
	root, err := testbin.RepoRoot()
	if err != nil {
		return nil, err
	}
	opts := cluster.Options{
		Full:       cfg.workloads == workloadsKWOK,
		FakeNodes:  -1, // the bench creates its own, fatter nodes
		CRDPaths:   []string{filepath.Join(root, "artifacts", "flagger", "crd.yaml")},
		GatewayAPI: true,
		APIServerArgs: []string{
			"--service-cluster-ip-range=" + serviceCIDR,
			"--audit-policy-file=" + policy, "--audit-log-path=" + e.auditLog,
			"--audit-log-format=json", "--audit-log-maxsize=0",
		},
		Logf: cfg.logf,
	}
	if opts.Full {
		opts.ControllerManagerArgs = controllerManagerArgs()
	} else {
		opts.FakeNodes = 0
	}
	began := time.Now()
	c, err := cluster.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	e.cluster = c
	if err := e.clients(); err != nil {
		return e, err
	}
	if opts.Full {
		nodes := (3*cfg.n)/podsPerNode + 1
		if e.nodes, err = createNodes(ctx, e.kube, nodes); err != nil {
			return e, err
		}
	}
	cfg.logf("bench: control plane with %d nodes ready in %s", len(e.nodes), time.Since(began).Round(time.Millisecond))
	return e, nil
}

// controllerManagerArgs lift the controller manager's own limits (20 QPS,
// five workers per controller), which would otherwise decide how fast
// thousands of Deployments roll out.
func controllerManagerArgs() []string {
	return []string{
		"--service-cluster-ip-range=" + serviceCIDR, "--node-cidr-mask-size=" + nodeCIDRMask,
		"--kube-api-qps=1000", "--kube-api-burst=2000",
		"--concurrent-deployment-syncs=20", "--concurrent-replicaset-syncs=20",
		"--concurrent-service-endpoint-syncs=20", "--concurrent-gc-syncs=40",
	}
}

func (e *env) clients() error {
	e.admin = rest.CopyConfig(e.cluster.Config)
	e.admin.QPS, e.admin.Burst = -1, 0 // negative: no rate limiter at all
	var err error
	if e.kube, err = kubernetes.NewForConfig(e.admin); err != nil {
		return err
	}
	if e.flagger, err = clientset.NewForConfig(e.admin); err != nil {
		return err
	}
	e.gateway, err = gatewayclient.NewForConfig(e.admin)
	return err
}

// operatorKubeconfig writes a kubeconfig for operatorUser and returns its path.
func (e *env) operatorKubeconfig() (string, error) {
	cfg, err := e.cluster.UserConfig(operatorUser, "system:masters")
	if err != nil {
		return "", err
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["bench"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[operatorUser] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["bench"] = &clientcmdapi.Context{Cluster: "bench", AuthInfo: operatorUser}
	kc.CurrentContext = "bench"
	path := filepath.Join(e.dir, "operator.kubeconfig")
	return path, clientcmd.WriteToFile(*kc, path)
}

// stop stops the cluster and removes the bench directory unless kept.
func (e *env) stop(keep bool, logf func(string, ...any)) {
	if e.cluster != nil {
		if err := e.cluster.Stop(); err != nil {
			logf("bench: stopping the cluster: %v", err)
		}
		if keep {
			logf("bench: cluster directory %s", e.cluster.Dir)
		}
	}
	if keep {
		logf("bench: bench directory %s", e.dir)
		return
	}
	_ = os.RemoveAll(e.dir)
}
