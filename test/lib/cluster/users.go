package cluster

import (
	"fmt"

	"k8s.io/client-go/rest"
)

// UserConfig returns a config that authenticates as user, member of groups, with a client
// certificate issued by the cluster's CA: a real, unprivileged identity for RBAC tests (grant
// it permissions with Roles and RoleBindings as usual).
func (c *Cluster) UserConfig(user string, groups ...string) (*rest.Config, error) {
	kp, err := c.ca.client(user, groups...)
	if err != nil {
		return nil, fmt.Errorf("issuing a client certificate for %q: %w", user, err)
	}
	return restConfig(c.Config.Host, c.ca.certPEM, kp), nil
}

// ImpersonatedConfig returns the admin config impersonating user and groups, as
// `kubectl --as USER --as-group GROUP` does.
func (c *Cluster) ImpersonatedConfig(user string, groups ...string) *rest.Config {
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	return cfg
}

// TokenConfig returns a config that authenticates as the admin with the static bearer token
// of the API server's token file, for code paths that handle tokens rather than certificates.
func (c *Cluster) TokenConfig() *rest.Config {
	return &rest.Config{
		Host:            c.Config.Host,
		BearerToken:     adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.ca.certPEM},
		QPS:             clientQPS,
		Burst:           clientBurst,
	}
}
