package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/serin-dev/serin/test/lib/proc"
)

const (
	// KeepEnv names the environment variable that, set to 1 (or true), keeps a cluster's
	// directory with its logs, certificates and kubeconfigs after Stop.
	KeepEnv = "SERIN_KEEP_CLUSTER"

	// stopGrace is how long components get to exit on SIGTERM before SIGKILL.
	stopGrace = 5 * time.Second
	// portAttempts bounds the restarts after another process took one of our ports.
	portAttempts = 3
	// setupTimeout bounds each wait after the components are up: CRDs, nodes.
	setupTimeout = 60 * time.Second
)

// Cluster is a running control plane. Its fields are read-only.
type Cluster struct {
	// Config authenticates as a cluster admin (group system:masters) with a client certificate.
	Config *rest.Config
	// KubeconfigPath is a kubeconfig file for the same admin, for `kubectl --kubeconfig` and
	// for binaries under test.
	KubeconfigPath string
	// Dir holds the cluster's logs (logs/*.log), certificates, kubeconfigs and etcd data. It is
	// removed by Stop unless SERIN_KEEP_CLUSTER=1.
	Dir string
	// Nodes are the names of the fake KWOK nodes, all labelled FakeNodeLabel=kwok.
	Nodes []string

	ca    *authority
	procs []*proc.Process
	keep  bool
	// apiserver is how kube-apiserver was started, for RestartAPIServer.
	apiserver component

	stopOnce sync.Once
	stopErr  error
}

// Start brings up a control plane as described by opts and returns once it is ready: every
// component answers its health check, the CRDs are Established and served and, in a Full
// cluster, the fake nodes are Ready and the default ServiceAccount exists. ctx bounds the start
// only; the processes run until Stop (or until the test binary exits).
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	bins, err := findBinaries(opts.Full)
	if err != nil {
		return nil, err
	}
	paths := opts.CRDPaths
	if opts.GatewayAPI {
		dir, err := gatewayAPICRDDir()
		if err != nil {
			return nil, fmt.Errorf("locating the Gateway API CRDs: %w", err)
		}
		paths = append([]string{dir}, paths...)
	}
	if opts.KEDA {
		crd, err := kedaCRD()
		if err != nil {
			return nil, err
		}
		paths = append(paths, crd)
	}
	// Read the manifests first, so that a typo fails before any process starts.
	objs, err := readManifests(paths)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		c, err := start(ctx, opts, bins, objs)
		if err == nil || !errors.Is(err, errPortInUse) || attempt == portAttempts {
			return c, err
		}
		opts.logf("cluster: a port was taken by another process, starting again: %v", err)
	}
}

// start makes one attempt at starting a cluster, and cleans up after itself if it fails.
func start(ctx context.Context, opts Options, bins *binaries, objs *manifests) (_ *Cluster, err error) {
	began := time.Now()
	dir, err := os.MkdirTemp("", "serin-cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, KubeconfigPath: filepath.Join(dir, "admin.kubeconfig"), keep: keepDir()}
	defer func() {
		if err != nil {
			if c.keep {
				err = fmt.Errorf("%w\n(cluster directory kept: %s)", err, dir)
			}
			err = errors.Join(err, c.Stop())
		}
	}()
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	ports, err := newPortSet()
	if err != nil {
		return nil, err
	}
	cr, err := newCredentials(dir, "https://"+hostPort(ports.apiserver))
	if err != nil {
		return nil, err
	}
	c.ca, c.Config = cr.ca, cr.admin

	if err := c.launch(ctx, opts, etcdComponent(dir, bins, ports)); err != nil {
		return nil, err
	}
	api, err := apiserverComponent(dir, bins, ports, cr, opts.APIServerArgs)
	if err != nil {
		return nil, err
	}
	if err := c.launch(ctx, opts, api); err != nil {
		return nil, err
	}
	c.apiserver = api
	if opts.Full {
		err = c.startWorkloadTier(ctx, opts, bins, ports, cr, objs)
	} else {
		err = c.install(ctx, opts, objs)
	}
	if err != nil {
		return nil, err
	}
	opts.logf("cluster: ready in %s (dir %s)", since(began), dir)
	return c, nil
}

// startWorkloadTier starts what makes workloads run (controller manager, scheduler, KWOK and
// its nodes) while the manifests are installed, then waits for the nodes.
func (c *Cluster) startWorkloadTier(ctx context.Context, opts Options, bins *binaries, ports portSet, cr *credentials, objs *manifests) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	// Spawned before the parallel section, which then only reads c.procs.
	comps := []component{
		controllerManagerComponent(c.Dir, bins, ports, cr, opts.ControllerManagerArgs),
		schedulerComponent(c.Dir, bins, ports, cr),
		kwokComponent(bins, ports, cr),
	}
	began := time.Now()
	procs, err := c.spawn(comps)
	if err != nil {
		return err
	}
	err = parallel(
		func() error { return c.waitReady(ctx, opts, began, comps, procs) },
		func() (err error) {
			c.Nodes, err = createFakeNodes(ctx, cs, opts.fakeNodes())
			return err
		},
		func() error { return c.install(ctx, opts, objs) },
	)
	if err != nil {
		return err
	}
	began = time.Now()
	if err := waitWorkloadReady(ctx, cs, c.Nodes, setupTimeout); err != nil {
		return c.withLogs(fmt.Errorf("waiting for nodes and the default ServiceAccount: %w", err), "kwok", "kube-controller-manager")
	}
	opts.logf("cluster: %d fake nodes Ready and default ServiceAccount present in %s", len(c.Nodes), since(began))
	return nil
}
