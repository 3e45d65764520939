package main

import (
	"errors"
	"os"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/serin-dev/serin/pkg/loadtester"
)

// serviceAccountNamespace is where a pod finds its own namespace.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// newStore picks where the gate state lives: a ConfigMap, a file, or
// nowhere (nil). newClient is called only for a ConfigMap.
func newStore(o *options, newClient func(kubeconfig string) (kubernetes.Interface, error)) (loadtester.Store, error) {
	switch {
	case o.stateConfigMap != "":
		ns, err := podNamespace(o.stateNamespace, os.Getenv("POD_NAMESPACE"), serviceAccountNamespace)
		if err != nil {
			return nil, err
		}
		client, err := newClient(o.kubeconfig)
		if err != nil {
			return nil, err
		}
		return loadtester.ConfigMapStore{Client: client, Namespace: ns, Name: o.stateConfigMap}, nil
	case o.stateFile != "":
		return loadtester.FileStore{Path: o.stateFile}, nil
	default:
		return nil, nil
	}
}

// podNamespace is the -state-namespace flag, else $POD_NAMESPACE, else the
// service account's namespace.
func podNamespace(flagValue, env, saFile string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if env != "" {
		return env, nil
	}
	b, err := os.ReadFile(saFile)
	if ns := strings.TrimSpace(string(b)); err == nil && ns != "" {
		return ns, nil
	}
	return "", errors.New("-state-configmap: cannot tell the pod's namespace: set -state-namespace or POD_NAMESPACE")
}

// newKubeClient uses the in-cluster configuration, or kubeconfig when set.
func newKubeClient(kubeconfig string) (kubernetes.Interface, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig == "" {
		cfg, err = rest.InClusterConfig()
	} else {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	if err != nil {
		return nil, err
	}
	cfg.UserAgent = "serin-loadtester"
	return kubernetes.NewForConfig(cfg)
}
