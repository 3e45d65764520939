package cluster

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
)

// Identities of the components that talk to the API server. KWOK writes status for every
// fake node and pod, so it runs as a cluster admin, as in KWOK's own setups; so does the
// controller manager, which then needs no per-controller ServiceAccount credentials.
const (
	adminUser            = "serin-test-admin"
	mastersGroup         = "system:masters"
	controllerMgrUser    = "system:kube-controller-manager"
	schedulerUser        = "system:kube-scheduler"
	kwokUser             = "kwok"
	adminToken           = "serin-test-admin-token"
	serviceCIDR          = "10.0.0.0/24"
	serviceIP            = "10.0.0.1" // the first address of serviceCIDR: the kubernetes Service
	serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local"
)

// credentials are the files a control plane is started with, all under dir/pki.
type credentials struct {
	ca                      *authority
	caFile                  string
	servingCert, servingKey string
	saKey, saPub            string
	tokenFile               string
	// admin is the system:masters client configuration handed to tests.
	admin *rest.Config
	// kubeconfigs maps each client (admin, kube-controller-manager, ...) to its kubeconfig file.
	kubeconfigs map[string]string
}

// newCredentials creates the CA, the serving and client certificates, the service-account
// key pair, a static token file and the kubeconfigs for an API server at host.
func newCredentials(dir, host string) (*credentials, error) {
	pkiDir := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		return nil, err
	}
	ca, err := newAuthority()
	if err != nil {
		return nil, fmt.Errorf("creating the CA: %w", err)
	}
	cr := &credentials{ca: ca, kubeconfigs: map[string]string{}}
	serving, err := ca.serving("kube-apiserver", []string{
		"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local",
	}, []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback, net.ParseIP(serviceIP)})
	if err != nil {
		return nil, err
	}
	saKey, saPub, err := serviceAccountKeys()
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		path *string
		name string
		data []byte
	}{
		{&cr.caFile, "ca.crt", ca.certPEM},
		{&cr.servingCert, "apiserver.crt", serving.cert},
		{&cr.servingKey, "apiserver.key", serving.key},
		{&cr.saKey, "sa.key", saKey},
		{&cr.saPub, "sa.pub", saPub},
		// A bearer token for tools that prefer one: token,user,uid,"group,..."
		{&cr.tokenFile, "tokens.csv", fmt.Appendf(nil, "%s,%s,%s,%q\n", adminToken, adminUser, adminUser, mastersGroup)},
	} {
		if *f.path, err = writeFile(pkiDir, f.name, f.data); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct {
		name, user string
		groups     []string
	}{
		{"admin", adminUser, []string{mastersGroup}},
		{"kube-controller-manager", controllerMgrUser, []string{mastersGroup}},
		{"kube-scheduler", schedulerUser, nil},
		{"kwok", kwokUser, []string{mastersGroup}},
	} {
		kp, err := ca.client(c.user, c.groups...)
		if err != nil {
			return nil, err
		}
		cfg := restConfig(host, ca.certPEM, kp)
		path := filepath.Join(dir, c.name+".kubeconfig")
		if err := writeKubeconfig(path, c.user, cfg); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		cr.kubeconfigs[c.name] = path
		if c.name == "admin" {
			cr.admin = cfg
		}
	}
	return cr, nil
}
