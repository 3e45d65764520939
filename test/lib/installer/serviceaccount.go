package installer

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/must"
)

const (
	// Namespace is where kustomize/base installs the operator, its
	// ServiceAccount and its leader Lease.
	Namespace = "serin-system"
	// ServiceAccount is the operator's ServiceAccount.
	ServiceAccount = "serin"
	// TokenTTL is how long the tokens of the kubeconfigs stay valid: longer
	// than `make test`'s 30 minute timeout.
	TokenTTL = 2 * time.Hour

	fieldManager = "serin-test-install"
)

// rbacResources are the kinds of kustomize/base that make up the operator's
// identity and permissions, and where to apply them.
var rbacResources = map[string]schema.GroupVersionResource{
	"Namespace":          {Version: "v1", Resource: "namespaces"},
	"ServiceAccount":     {Version: "v1", Resource: "serviceaccounts"},
	"ClusterRole":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	"ClusterRoleBinding": {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	"Role":               {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	"RoleBinding":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
}

// ServiceAccountKubeconfig applies the operator's RBAC as `kubectl kustomize
// kustomize/base` renders it (the Namespace, ServiceAccount, ClusterRole,
// leader-election Role and their bindings; nothing else) and returns the
// path of a kubeconfig, in c.Dir, that authenticates as that ServiceAccount
// with a token from the TokenRequest API. It returns once the API server
// authorizes the ServiceAccount, so the first request made with it is not
// refused while the RBAC caches catch up.
//
// Run the operator with it and -leader-election-namespace=serin-system: the
// role allows the leader Lease only there, as in-cluster where the pod's
// namespace is used.
func ServiceAccountKubeconfig(ctx context.Context, c *cluster.Cluster) (string, error) {
	objs, err := Render(ctx, "kustomize/base")
	if err != nil {
		return "", err
	}
	if err := applyRBAC(ctx, c, objs); err != nil {
		return "", err
	}
	path, err := TokenKubeconfig(ctx, c, Namespace, ServiceAccount)
	if err != nil {
		return "", err
	}
	return path, waitAuthorized(ctx, path, authorizationv1.ResourceAttributes{
		Verb: "watch", Group: "flagger.app", Resource: "canaries",
	})
}

// applyRBAC server-side-applies the RBAC objects among objs, Namespace first
// (kustomize renders it first).
func applyRBAC(ctx context.Context, c *cluster.Cluster, objs []*unstructured.Unstructured) error {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	applied := 0
	for _, obj := range objs {
		gvr, ok := rbacResources[obj.GetKind()]
		if !ok {
			continue
		}
		data, err := json.Marshal(obj.Object)
		if err != nil {
			return err
		}
		var client dynamic.ResourceInterface = dyn.Resource(gvr)
		if ns := obj.GetNamespace(); ns != "" {
			client = dyn.Resource(gvr).Namespace(ns)
		}
		force := true
		if _, err := client.Patch(ctx, obj.GetName(), types.ApplyPatchType, data,
			metav1.PatchOptions{FieldManager: fieldManager, Force: &force}); err != nil {
			return fmt.Errorf("apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		applied++
	}
	if applied == 0 {
		return fmt.Errorf("kustomize/base renders no RBAC objects")
	}
	return nil
}

// TokenKubeconfig returns the path of a kubeconfig, in c.Dir, that
// authenticates as the ServiceAccount namespace/name (which must exist) with
// a token of the TokenRequest API valid for TokenTTL.
func TokenKubeconfig(ctx context.Context, c *cluster.Cluster, namespace, name string) (string, error) {
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return "", err
	}
	ttl := int64(TokenTTL / time.Second)
	tr, err := kube.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &ttl},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for serviceaccount %s/%s: %w", namespace, name, err)
	}
	const clusterName = "serin-test"
	user := "system:serviceaccount:" + namespace + ":" + name
	kc := clientcmdapi.NewConfig()
	kc.Clusters[clusterName] = &clientcmdapi.Cluster{Server: c.Config.Host, CertificateAuthorityData: c.Config.CAData}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts[clusterName] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: user, Namespace: namespace}
	kc.CurrentContext = clusterName
	path := filepath.Join(c.Dir, "serviceaccount-"+namespace+"-"+name+".kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return "", err
	}
	return path, nil
}

// waitAuthorized waits until the identity of kubeconfig may do what attrs
// says, as its own SelfSubjectAccessReview tells.
func waitAuthorized(ctx context.Context, kubeconfig string, attrs authorizationv1.ResourceAttributes) error {
	kube, err := ClientFor(kubeconfig)
	if err != nil {
		return err
	}
	err = must.Poll(30*time.Second, 100*time.Millisecond, func() (bool, error) {
		allowed, reason, err := Allowed(ctx, kube, attrs)
		if err != nil || !allowed {
			return false, fmt.Errorf("not allowed yet (%s): %v", reason, err)
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("%s %s.%s: %w", attrs.Verb, attrs.Resource, attrs.Group, err)
	}
	return nil
}

// ClientFor returns a clientset for a kubeconfig file.
func ClientFor(kubeconfig string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	// client-go's default of 5 QPS would make tests wait on themselves.
	cfg.QPS, cfg.Burst = 100, 200
	return kubernetes.NewForConfig(cfg)
}

// Allowed asks the API server whether kube's own identity may do what attrs
// says (a SelfSubjectAccessReview), and why.
func Allowed(ctx context.Context, kube kubernetes.Interface, attrs authorizationv1.ResourceAttributes) (bool, string, error) {
	review, err := kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, "", err
	}
	reason := review.Status.Reason
	if review.Status.EvaluationError != "" {
		reason += " (" + review.Status.EvaluationError + ")"
	}
	return review.Status.Allowed, reason, nil
}
