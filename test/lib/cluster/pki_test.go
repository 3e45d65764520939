package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/util/keyutil"
)

func TestCredentialsChainToTheCA(t *testing.T) {
	dir := t.TempDir()
	cr, err := newCredentials(dir, "https://127.0.0.1:6443")
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(cr.ca.certPEM))

	serving := loadPair(t, cr.servingCert, cr.servingKey)
	for _, name := range []string{"localhost", "127.0.0.1", "kubernetes.default.svc", "10.0.0.1"} {
		_, err := serving.Verify(x509.VerifyOptions{DNSName: name, Roots: roots})
		assert.NoError(t, err, "serving certificate for %s", name)
	}

	admin, err := tls.X509KeyPair(cr.admin.CertData, cr.admin.KeyData)
	require.NoError(t, err)
	leaf := admin.Leaf
	assert.Equal(t, adminUser, leaf.Subject.CommonName)
	assert.Equal(t, []string{mastersGroup}, leaf.Subject.Organization)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	assert.NoError(t, err)

	// The API server reads the service-account keys with client-go's keyutil.
	_, err = keyutil.PrivateKeyFromFile(cr.saKey)
	assert.NoError(t, err)
	_, err = keyutil.PublicKeysFromFile(cr.saPub)
	assert.NoError(t, err)

	assert.Len(t, cr.kubeconfigs, 4)
	assert.FileExists(t, cr.kubeconfigs["admin"])
}

func TestUserConfigIssuesAnUnprivilegedCertificate(t *testing.T) {
	cr, err := newCredentials(t.TempDir(), "https://127.0.0.1:6443")
	require.NoError(t, err)
	c := &Cluster{Config: cr.admin, ca: cr.ca}

	cfg, err := c.UserConfig("alice", "developers", "testers")
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(cfg.CertData, cfg.KeyData)
	require.NoError(t, err)
	assert.Equal(t, "alice", pair.Leaf.Subject.CommonName)
	assert.ElementsMatch(t, []string{"developers", "testers"}, pair.Leaf.Subject.Organization, "groups (DER sorts them)")
	assert.Equal(t, c.Config.Host, cfg.Host)

	imp := c.ImpersonatedConfig("bob", "viewers")
	assert.Equal(t, "bob", imp.Impersonate.UserName)
	assert.Empty(t, c.Config.Impersonate.UserName, "the admin config must not change")

	assert.Equal(t, adminToken, c.TokenConfig().BearerToken)
}

// loadPair parses a certificate file and checks that it matches its key file.
func loadPair(t *testing.T, certFile, keyFile string) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	block, _ := pem.Decode(mustRead(t, certFile))
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	require.Equal(t, pair.Leaf.Raw, cert.Raw)
	return cert
}
