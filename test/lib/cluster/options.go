package cluster

import "errors"

// DefaultFakeNodes is the number of KWOK nodes a Full cluster gets when Options.FakeNodes is 0.
const DefaultFakeNodes = 2

// Options selects what Start brings up.
type Options struct {
	// Full adds kube-controller-manager, kube-scheduler and KWOK with fake nodes, so that
	// workloads really roll out: Deployments get Pods that are scheduled, Running and Ready, and
	// become Available. It needs the binaries of `hack/testbin.sh all`.
	Full bool

	// FakeNodes is how many KWOK nodes a Full cluster gets: 0 means DefaultFakeNodes, a negative
	// number means none. Each has 32 CPUs, 256Gi of memory and room for 110 pods.
	FakeNodes int

	// CRDPaths are YAML or JSON files, or directories of them (not recursive, in name order),
	// to install once the API server is ready. CustomResourceDefinitions (apiextensions.k8s.io/v1)
	// are created first and waited for until they are Established and served; any other
	// objects are created after them, in order (namespaced ones without a namespace in default).
	CRDPaths []string

	// GatewayAPI installs the standard-channel Gateway API CRDs of the sigs.k8s.io/gateway-api
	// version in go.mod, read from the module cache, together with the ValidatingAdmissionPolicy
	// that ships beside them (as `kubectl apply -f config/crd/standard` would).
	GatewayAPI bool

	// KEDA installs KEDA's ScaledObject CRD, as KEDA v2 ships it (hack/testbin.sh keda-crd
	// copies it from the kedacore/keda/v2 module into the testbin cache).
	KEDA bool

	// APIServerArgs are extra kube-apiserver flags, appended after the harness' own (for a
	// scalar flag the last value wins).
	APIServerArgs []string

	// ControllerManagerArgs are extra kube-controller-manager flags, appended likewise.
	ControllerManagerArgs []string

	// Logf, when set, receives progress lines such as how long each component took to be ready.
	Logf func(format string, args ...any)
}

// fakeNodes returns the number of KWOK nodes to create.
func (o Options) fakeNodes() int {
	switch {
	case !o.Full || o.FakeNodes < 0:
		return 0
	case o.FakeNodes == 0:
		return DefaultFakeNodes
	default:
		return o.FakeNodes
	}
}

// validate rejects combinations that cannot work.
func (o Options) validate() error {
	if !o.Full && o.FakeNodes > 0 {
		return errors.New("cluster: FakeNodes needs Full (KWOK runs only in a full cluster)")
	}
	if !o.Full && len(o.ControllerManagerArgs) > 0 {
		return errors.New("cluster: ControllerManagerArgs needs Full")
	}
	return nil
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}
