package install

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/loadtester"
	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/installer"
	"github.com/serin-dev/serin/test/lib/manifest"
	"github.com/serin-dev/serin/test/lib/testbin"
)

// loadTesterURL is the load tester's address in the tutorial's webhooks.
const loadTesterURL = "http://flagger-loadtester.test/"

// tutorialCanaries are the Canaries that call the load tester: the seed
// manifests as printed, the A/B form the e2e tests run and the one the
// demo and test/traffic run.
var tutorialCanaries = []string{
	"test/testdata/seed/podinfo-canary.yaml",
	"test/testdata/seed/podinfo-ab-canary.yaml",
	"test/testdata/seed/podinfo-canary-session-affinity.yaml",
	"test/testdata/seed/podinfo-mirror-canary.yaml",
	"test/testdata/podinfo-ab-match-canary.yaml",
	"test/demo/manifests/canary.yaml",
}

// TestLoadTesterAllowsTheTutorial checks the shipped -allow-cmd against
// every command the tutorial's Canaries send to the load tester, with the
// load tester's own decision: each passes, and a command outside the list
// does not.
func TestLoadTesterAllowsTheTutorial(t *testing.T) {
	_, c := container(t, "kustomize/tester", "flagger-loadtester")
	var allow []string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "-allow-cmd="); ok {
			allow = append(allow, strings.Split(v, ",")...)
		}
	}
	require.NotEmpty(t, allow, "the manifests ship an allow-list")
	assert.NotContains(t, allow, loadtester.AllowAny)

	root, err := testbin.RepoRoot()
	require.NoError(t, err)
	seen := 0
	for _, file := range tutorialCanaries {
		objs, err := manifest.ReadFiles(filepath.Join(root, file))
		require.NoError(t, err)
		for _, obj := range objs {
			var cd flaggerv1.Canary
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &cd))
			for _, hook := range cd.Spec.Analysis.Webhooks {
				if hook.URL != loadTesterURL {
					continue
				}
				md := hook.Metadata
				seen++
				assert.NoError(t, loadtester.CheckCommand(allow, md["type"], md["cmd"]), "%s: webhook %s", file, hook.Name)
			}
		}
	}
	assert.GreaterOrEqual(t, seen, 2*len(tutorialCanaries)-1, "every Canary has a load test, all but the mirror one a smoke test")

	for _, cmd := range []string{
		"cat /var/run/secrets/kubernetes.io/serviceaccount/token",
		"curl -sd anon http://podinfo-canary.test:9898/token | sh",
		"hey -z 1m http://x/ && kubectl get secrets -A",
	} {
		err := loadtester.CheckCommand(allow, "bash", cmd)
		var denied *loadtester.DeniedError
		assert.ErrorAs(t, err, &denied, cmd)
	}
}

// TestLoadTesterNetworkPolicy applies the install's and the tutorial's
// manifests (the operator in serin-system, podinfo and the load tester in
// test, podinfo again in another namespace) on a control plane with KWOK
// nodes, and evaluates the load tester's NetworkPolicy, as an
// implementation would, for every pod of that cluster towards the load
// tester's pods. Nothing here enforces the policy (the cluster has no
// NetworkPolicy implementation); what it proves is that the policy's
// selectors, applied to the real objects and labels the manifests create,
// admit the operator's pods and no other.
func TestLoadTesterNetworkPolicy(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{Full: true, GatewayAPI: true})
	kube := kubernetes.NewForConfigOrDie(c.Config)
	runCommands(t, c, [][]string{
		{"apply", "-k", "kustomize/gatewayapi"},
		{"create", "ns", "test"},
		{"apply", "-k", "kustomize/podinfo", "-n", "test"},
		{"apply", "-k", "kustomize/tester", "-n", "test"},
		{"create", "ns", "other"},
		{"apply", "-k", "kustomize/podinfo", "-n", "other"},
	})
	mustBeAvailable(t, kube, installer.Namespace, "serin", 2)
	mustBeAvailable(t, kube, "test", "podinfo", 1)
	mustBeAvailable(t, kube, "test", "flagger-loadtester", 1)
	mustBeAvailable(t, kube, "other", "podinfo", 1)

	nsList, err := kube.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	namespaces := map[string]*corev1.Namespace{}
	for i := range nsList.Items {
		namespaces[nsList.Items[i].Name] = &nsList.Items[i]
	}
	policies, err := kube.NetworkingV1().NetworkPolicies("").List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	pods, err := kube.CoreV1().Pods("").List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)

	var testers, sources []corev1.Pod
	for _, p := range pods.Items {
		if p.Namespace == "test" && p.Labels["app"] == "flagger-loadtester" {
			testers = append(testers, p)
		} else {
			sources = append(sources, p)
		}
	}
	require.NotEmpty(t, testers)
	admitted := map[string]bool{} // "namespace/app" of each source pod
	for _, dst := range testers {
		require.Len(t, dst.Spec.Containers[0].Ports, 1)
		port := dst.Spec.Containers[0].Ports[0]
		assert.True(t, selected(policies.Items, &dst), "a policy selects load tester pod %s", dst.Name)
		for _, src := range sources {
			ok, err := admits(policies.Items, namespaces, &src, &dst, port)
			require.NoError(t, err)
			admitted[src.Namespace+"/"+appOf(&src)] = ok
		}
	}
	assert.Equal(t, map[string]bool{
		"serin-system/serin": true,
		"test/podinfo":       false,
		"other/podinfo":      false,
	}, admitted)
}

func appOf(p *corev1.Pod) string {
	if v := p.Labels["app.kubernetes.io/name"]; v != "" {
		return v
	}
	return p.Labels["app"]
}

// selected reports whether an ingress policy selects pod.
func selected(policies []networkingv1.NetworkPolicy, pod *corev1.Pod) bool {
	for i := range policies {
		if ok, _ := selectsIngress(&policies[i], pod); ok {
			return true
		}
	}
	return false
}

func selectsIngress(p *networkingv1.NetworkPolicy, pod *corev1.Pod) (bool, error) {
	if p.Namespace != pod.Namespace {
		return false, nil
	}
	ingress := len(p.Spec.PolicyTypes) == 0 // Ingress is implied
	for _, typ := range p.Spec.PolicyTypes {
		ingress = ingress || typ == networkingv1.PolicyTypeIngress
	}
	if !ingress {
		return false, nil
	}
	return matches(&p.Spec.PodSelector, pod.Labels)
}

// admits reports whether the policies admit TCP traffic from src to port
// of dst, with the semantics of networking.k8s.io/v1: a pod no ingress
// policy selects admits everything; a selected pod admits what some rule of
// a selecting policy admits, a rule admitting a peer (empty from: every
// peer) on a port (empty ports: every port).
func admits(policies []networkingv1.NetworkPolicy, namespaces map[string]*corev1.Namespace, src, dst *corev1.Pod, port corev1.ContainerPort) (bool, error) {
	isolated := false
	for i := range policies {
		p := &policies[i]
		sel, err := selectsIngress(p, dst)
		if err != nil {
			return false, err
		}
		if !sel {
			continue
		}
		isolated = true
		for _, rule := range p.Spec.Ingress {
			if !portMatches(rule.Ports, port) {
				continue
			}
			ok, err := peersMatch(rule.From, p.Namespace, namespaces, src)
			if err != nil || ok {
				return ok, err
			}
		}
	}
	return !isolated, nil
}

func portMatches(ports []networkingv1.NetworkPolicyPort, port corev1.ContainerPort) bool {
	if len(ports) == 0 {
		return true
	}
	proto := port.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	for _, p := range ports {
		want := corev1.ProtocolTCP
		if p.Protocol != nil {
			want = *p.Protocol
		}
		switch {
		case want != proto:
		case p.Port == nil:
			return true
		case p.Port.StrVal != "":
			if p.Port.StrVal == port.Name {
				return true
			}
		case p.EndPort != nil:
			if port.ContainerPort >= p.Port.IntVal && port.ContainerPort <= *p.EndPort {
				return true
			}
		case p.Port.IntVal == port.ContainerPort:
			return true
		}
	}
	return false
}

// peersMatch reports whether src is one of the peers: a podSelector alone
// picks pods of the policy's namespace, a namespaceSelector alone every pod
// of the namespaces it picks, both together the pods it picks in those.
func peersMatch(peers []networkingv1.NetworkPolicyPeer, policyNS string, namespaces map[string]*corev1.Namespace, src *corev1.Pod) (bool, error) {
	if len(peers) == 0 {
		return true, nil
	}
	for _, peer := range peers {
		if peer.IPBlock != nil {
			ok, err := inBlock(peer.IPBlock, src.Status.PodIP)
			if err != nil || ok {
				return ok, err
			}
			continue
		}
		nsOK := src.Namespace == policyNS
		if peer.NamespaceSelector != nil {
			ns, found := namespaces[src.Namespace]
			if !found {
				return false, fmt.Errorf("pod %s/%s: no namespace", src.Namespace, src.Name)
			}
			var err error
			if nsOK, err = matches(peer.NamespaceSelector, ns.Labels); err != nil {
				return false, err
			}
		}
		podOK := true
		if peer.PodSelector != nil {
			var err error
			if podOK, err = matches(peer.PodSelector, src.Labels); err != nil {
				return false, err
			}
		}
		if nsOK && podOK {
			return true, nil
		}
	}
	return false, nil
}

func inBlock(b *networkingv1.IPBlock, ip string) (bool, error) {
	addr := net.ParseIP(ip)
	if addr == nil {
		return false, nil
	}
	_, cidr, err := net.ParseCIDR(b.CIDR)
	if err != nil || !cidr.Contains(addr) {
		return false, err
	}
	for _, e := range b.Except {
		_, ex, err := net.ParseCIDR(e)
		if err != nil || ex.Contains(addr) {
			return false, err
		}
	}
	return true, nil
}

func matches(s *metav1.LabelSelector, l map[string]string) (bool, error) {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return false, err
	}
	return sel.Matches(labels.Set(l)), nil
}

// TestAdmitsFollowsTheNetworkPolicySemantics checks the evaluator above on
// the cases the load tester's policy depends on.
func TestAdmitsFollowsTheNetworkPolicySemantics(t *testing.T) {
	pod := func(ns, app string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app, Labels: map[string]string{"app": app}}}
	}
	namespaces := map[string]*corev1.Namespace{}
	for _, ns := range []string{"a", "b"} {
		namespaces[ns] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"kubernetes.io/metadata.name": ns}}}
	}
	byApp := func(app string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	}
	byNS := func(ns string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}
	}
	policy := func(types []networkingv1.PolicyType, peers ...networkingv1.NetworkPolicyPeer) networkingv1.NetworkPolicy {
		return networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: "a"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: *byApp("dst"), PolicyTypes: types,
				Ingress: []networkingv1.NetworkPolicyIngressRule{{From: peers}},
			},
		}
	}
	ingress := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	dst, port := pod("a", "dst"), corev1.ContainerPort{Name: "http", ContainerPort: 8080}
	tests := []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		src      *corev1.Pod
		want     bool
	}{
		{"no policy", nil, pod("b", "x"), true},
		{"egress only", []networkingv1.NetworkPolicy{policy([]networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, networkingv1.NetworkPolicyPeer{PodSelector: byApp("y")})}, pod("b", "x"), true},
		{"pod selector, same namespace", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyPeer{PodSelector: byApp("x")})}, pod("a", "x"), true},
		{"pod selector, other namespace", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyPeer{PodSelector: byApp("x")})}, pod("b", "x"), false},
		{"namespace selector", []networkingv1.NetworkPolicy{policy(nil, networkingv1.NetworkPolicyPeer{NamespaceSelector: byNS("b")})}, pod("b", "x"), true},
		{"both, wrong pod", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyPeer{NamespaceSelector: byNS("b"), PodSelector: byApp("y")})}, pod("b", "x"), false},
		{"both, right pod", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyPeer{NamespaceSelector: byNS("b"), PodSelector: byApp("x")})}, pod("b", "x"), true},
		{"another policy's pods", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyPeer{PodSelector: byApp("x")})}, pod("a", "dst"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := admits(tt.policies, namespaces, tt.src, dst, port)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	named := policy(ingress)
	other := intstr.FromString("metrics")
	named.Spec.Ingress[0].Ports = []networkingv1.NetworkPolicyPort{{Port: &other}}
	got, err := admits([]networkingv1.NetworkPolicy{named}, namespaces, pod("b", "x"), dst, port)
	require.NoError(t, err)
	assert.False(t, got, "another named port")
}

// TestReadmeOpensTheLoadTester renders the README Security section's
// overlay over a copy of kustomize/tester: the load tester then runs any
// command, and no NetworkPolicy is left.
func TestReadmeOpensTheLoadTester(t *testing.T) {
	root, err := testbin.RepoRoot()
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## Security\n")
	require.True(t, ok, "README.md has a Security section")
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```yaml\n")
	require.True(t, ok, "the Security section has a yaml block")
	block, _, _ = strings.Cut(block, "```")

	tree := filepath.Join(t.TempDir(), "kustomize")
	require.NoError(t, os.CopyFS(filepath.Join(tree, "tester"), os.DirFS(filepath.Join(root, "kustomize", "tester"))))
	open := filepath.Join(tree, "tester-open")
	require.NoError(t, os.Mkdir(open, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(open, "kustomization.yaml"), []byte(block), 0o644))
	objs, err := installer.Render(t.Context(), open)
	require.NoError(t, err)
	var kinds, allow []string
	for _, obj := range objs {
		kinds = append(kinds, obj.GetKind())
		if obj.GetKind() != "Deployment" {
			continue
		}
		containers, _, err := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
		require.NoError(t, err)
		args, _, err := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
		require.NoError(t, err)
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "-allow-cmd="); ok {
				allow = append(allow, strings.Split(v, ",")...)
			}
		}
	}
	assert.NotContains(t, kinds, "NetworkPolicy")
	assert.Contains(t, kinds, "Deployment")
	assert.NoError(t, loadtester.CheckCommand(allow, "bash", "id && kubectl get secrets -A"))
}
