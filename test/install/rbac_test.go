package install

import (
	"github.com/serin-dev/serin/test/lib/installer"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// operatorAllowList is every permission the operator's ClusterRole may grant,
// keyed by "resource.group", each with the code that needs it. The role must
// grant exactly this: a permission the code does not use fails the test, and
// so does one the code uses but the role forgot (TestInstall then also runs
// the operator under the role). Reads go through informers: list and watch,
// never get.
var operatorAllowList = map[string][]string{
	// The Canary informer (pkg/controller/controller.go); update adds and
	// removes Flagger's finalizer (pkg/controller/apply.go, setFinalizer).
	"canaries.flagger.app": {"list", "watch", "update"},
	// The status, a JSON patch written when it changed (pkg/controller/sync.go,
	// writeStatus).
	"canaries/status.flagger.app": {"patch"},
	// Generated objects carry a controller reference to their Canary with
	// blockOwnerDeletion (pkg/canary/controller.go ownerRef,
	// pkg/router/router.go canaryOwnerRef); OwnerReferencesPermissionEnforcement
	// admits that only from who may update the owner's finalizers.
	"canaries/finalizers.flagger.app": {"update"},
	// Informers only: templates are read when a check runs
	// (pkg/controller/checks.go), providers when an alert is sent
	// (pkg/notifier/dispatcher.go).
	"metrictemplates.flagger.app": {"list", "watch"},
	"alertproviders.flagger.app":  {"list", "watch"},
	// delete on the kinds Serin generates is never called: Serin changes the
	// owner references of existing objects (pkg/owners: the target's added
	// to those of Flagger or an older Serin, removed by revertOnDeletion),
	// which OwnerReferencesPermissionEnforcement admits only from who may
	// delete the object.
	// The Deployment informer; the primary is created and promoted by update
	// (pkg/canary/primary_sync.go); scaling is a merge patch (pkg/canary/scale.go).
	"deployments.apps": {"list", "watch", "create", "update", "patch", "delete"},
	// The same for DaemonSet targets; scaling patches the node selector
	// (pkg/canary/kind_daemonset.go).
	"daemonsets.apps": {"list", "watch", "create", "update", "patch", "delete"},
	// The HPA informer; the primary's HPA is created and updated (pkg/canary/hpa.go).
	"horizontalpodautoscalers.autoscaling": {"list", "watch", "create", "update", "delete"},
	// The ScaledObject informer, when KEDA is installed; the primary's is
	// created and updated, the target's paused by a merge patch
	// (pkg/canary/keda_sync.go).
	"scaledobjects.keda.sh": {"list", "watch", "create", "update", "patch", "delete"},
	// The Service informer; apex, primary and canary Services (pkg/router/kubernetes.go).
	"services": {"list", "watch", "create", "update", "delete"},
	// Config tracking: informers, and the -primary copies created and updated
	// (pkg/canary/configs_sync.go); Secrets also hold the credentials of
	// MetricTemplates and AlertProviders. Secrets are watched by metadata
	// and the data of the ones in use read with get (pkg/secretcache).
	"configmaps": {"get", "list", "watch", "create", "update", "delete"},
	"secrets":    {"get", "list", "watch", "create", "update", "delete"},
	// The HTTPRoute informers (v1 and v1beta1 share the resource), the
	// GRPCRoute informer and the routes Serin owns
	// (pkg/router/gatewayapi_client.go); get names the field managers of a
	// route Serin refuses to overwrite.
	"httproutes.gateway.networking.k8s.io": {"get", "list", "watch", "create", "update", "delete"},
	"grpcroutes.gateway.networking.k8s.io": {"get", "list", "watch", "create", "update", "delete"},
	// MetricTemplates of type keptn (pkg/metrics/keptn.go): a KeptnMetric is
	// read; an Analysis is created, read until completed and deleted.
	"keptnmetrics.metrics.keptn.sh": {"get"},
	"analyses.metrics.keptn.sh":     {"get", "create", "delete"},
	// MetricTemplates of type externalmetrics (pkg/metrics/externalmetrics.go)
	// list one metric; RBAC names the metric as the resource, so the rule
	// grants every resource of the group (the one wildcard granted allows).
	"*.external.metrics.k8s.io": {"list"},
	// the operator's event recorder (pkg/operator, pkg/events): create, and patch
	// to count repeats.
	"events": {"create", "patch"},
}

// leaderAllowList is the leader-election Role in serin-system: client-go's
// LeaseLock (cmd/serin/leader.go) gets, creates and updates one Lease.
var leaderAllowList = map[string][]string{
	"leases.coordination.k8s.io": {"create", "get", "update"},
}

// testerAllowList is the load tester's Role: its gate ConfigMap
// (pkg/loadtester/store_configmap.go gets, creates, updates).
var testerAllowList = map[string][]string{
	"configmaps": {"create", "get", "update"},
}

// externalMetricsGroup is the External Metrics API, whose resources are the
// metric names an adapter serves.
const externalMetricsGroup = "external.metrics.k8s.io"

// granted flattens rules into "resource.group" → sorted verbs, and fails on
// wildcards and non-resource URLs.
func granted(t *testing.T, rules []rbacv1.PolicyRule) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for i, r := range rules {
		assert.Empty(t, r.NonResourceURLs, "rule %d: non-resource URLs", i)
		fields := [][]string{r.Verbs, r.Resources, r.APIGroups, r.ResourceNames}
		if slices.Equal(r.APIGroups, []string{externalMetricsGroup}) {
			fields = [][]string{r.Verbs, r.APIGroups, r.ResourceNames} // metric names are its resources
		}
		for _, field := range fields {
			assert.NotContains(t, field, rbacv1.VerbAll, "rule %d grants a wildcard: %+v", i, r)
		}
		require.NotEmpty(t, r.Verbs, "rule %d", i)
		for _, group := range r.APIGroups {
			for _, res := range r.Resources {
				key := res
				if group != "" {
					key += "." + group
				}
				for _, v := range r.Verbs {
					if !slices.Contains(out[key], v) {
						out[key] = append(out[key], v)
					}
				}
			}
		}
	}
	for _, verbs := range out {
		sort.Strings(verbs)
	}
	return out
}

func sorted(m map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range m {
		out[k] = slices.Sorted(slices.Values(v))
	}
	return out
}

// rendered returns the one object of a kind and name that dir renders, typed.
func rendered[T any](t *testing.T, dir, kind, name string) *T {
	t.Helper()
	objs, err := installer.Render(t.Context(), dir)
	require.NoError(t, err)
	for _, obj := range objs {
		if obj.GetKind() == kind && obj.GetName() == name {
			out := new(T)
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, out))
			return out
		}
	}
	t.Fatalf("%s renders no %s %s", dir, kind, name)
	return nil
}

func TestOperatorClusterRoleIsTheAllowList(t *testing.T) {
	role := rendered[rbacv1.ClusterRole](t, "kustomize/base", "ClusterRole", "serin")
	got := granted(t, role.Rules)
	assert.Equal(t, sorted(operatorAllowList), got)
	for i, r := range role.Rules {
		assert.Empty(t, r.ResourceNames, "rule %d: the operator works on user-named objects", i)
	}
	binding := rendered[rbacv1.ClusterRoleBinding](t, "kustomize/base", "ClusterRoleBinding", "serin")
	assert.Equal(t, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "serin"}, binding.RoleRef)
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: installer.ServiceAccount, Namespace: installer.Namespace}}, binding.Subjects)
}

func TestLeaderElectionRoleIsTheAllowList(t *testing.T) {
	role := rendered[rbacv1.Role](t, "kustomize/base", "Role", "serin-leader-election")
	assert.Equal(t, installer.Namespace, role.Namespace)
	assert.Equal(t, sorted(leaderAllowList), granted(t, role.Rules))
	assertNamedExceptCreate(t, role.Rules, "serin-leader")
	binding := rendered[rbacv1.RoleBinding](t, "kustomize/base", "RoleBinding", "serin-leader-election")
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: installer.ServiceAccount, Namespace: installer.Namespace}}, binding.Subjects)
}

func TestLoadTesterRoleIsTheAllowList(t *testing.T) {
	role := rendered[rbacv1.Role](t, "kustomize/tester", "Role", "flagger-loadtester")
	assert.Equal(t, sorted(testerAllowList), granted(t, role.Rules))
	assertNamedExceptCreate(t, role.Rules, "flagger-loadtester-gates")
	binding := rendered[rbacv1.RoleBinding](t, "kustomize/tester", "RoleBinding", "flagger-loadtester")
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: "flagger-loadtester", Namespace: "test"}}, binding.Subjects)
}

// assertNamedExceptCreate checks that every verb but create (whose object
// name RBAC cannot see) is limited to the one object the binary uses.
func assertNamedExceptCreate(t *testing.T, rules []rbacv1.PolicyRule, name string) {
	t.Helper()
	for i, r := range rules {
		if slices.Equal(r.Verbs, []string{"create"}) {
			assert.Empty(t, r.ResourceNames, "rule %d", i)
			continue
		}
		assert.NotContains(t, r.Verbs, "create", "rule %d mixes create with named verbs", i)
		assert.Equal(t, []string{name}, r.ResourceNames, "rule %d (%s)", i, strings.Join(r.Verbs, ","))
	}
}
