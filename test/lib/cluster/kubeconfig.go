package cluster

import (
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Client-side rate limits for the configs the harness hands out: client-go's defaults (5 QPS)
// would make tests wait on themselves rather than on the cluster.
const (
	clientQPS   = 200
	clientBurst = 400
)

// restConfig returns a config for host that trusts ca and authenticates with the client
// certificate kp.
func restConfig(host string, ca []byte, kp keyPair) *rest.Config {
	return &rest.Config{
		Host: host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   ca,
			CertData: kp.cert,
			KeyData:  kp.key,
		},
		QPS:   clientQPS,
		Burst: clientBurst,
	}
}

// writeKubeconfig writes a self-contained kubeconfig (certificates embedded) for cfg to path.
func writeKubeconfig(path, user string, cfg *rest.Config) error {
	const name = "serin-test"
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
	}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
	}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: user}
	kc.CurrentContext = name
	return clientcmd.WriteToFile(*kc, path)
}
