package integration

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1beta1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// printed creates a canary with a status, as the operator would leave it
// mid-analysis, and returns its namespace.
func printed(t *testing.T) string {
	t.Helper()
	const ns = "printer"
	ensureNamespace(t, ns)
	ctx := context.Background()
	client := flagger.FlaggerV1beta1().Canaries(ns)
	canary := &flaggerv1beta1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns},
		Spec: flaggerv1beta1.CanarySpec{
			TargetRef: flaggerv1beta1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Service:   flaggerv1beta1.CanaryService{Port: 9898},
			Analysis:  &flaggerv1beta1.CanaryAnalysis{Interval: "1m", StepWeight: 10, MaxWeight: 50},
		},
	}
	created, err := client.Create(ctx, canary, metav1.CreateOptions{})
	if err != nil {
		created, err = client.Get(ctx, canary.Name, metav1.GetOptions{})
		require.NoError(t, err)
	}
	created.Status.Phase = flaggerv1beta1.CanaryPhaseProgressing
	created.Status.CanaryWeight = 20
	created.Status.FailedChecks = 1
	created.Status.LastTransitionTime = metav1.Now()
	_, err = client.UpdateStatus(ctx, created, metav1.UpdateOptions{})
	require.NoError(t, err)
	return ns
}

// TestKubectlGetCanaries runs the machine's kubectl against the API server:
// users watch releases with `kubectl get canaries -A` and script against its
// columns.
func TestKubectlGetCanaries(t *testing.T) {
	ns := printed(t)
	kubectl, err := exec.LookPath("kubectl")
	require.NoError(t, err, "kubectl is part of every supported machine")

	out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "get", "canaries", "-A").CombinedOutput()
	require.NoError(t, err, string(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	assert.Equal(t, []string{"NAMESPACE", "NAME", "STATUS", "WEIGHT", "LASTTRANSITIONTIME"}, strings.Fields(lines[0]))
	assert.Contains(t, rowOf(lines, ns), "Progressing")
	assert.Equal(t, []string{ns, "podinfo", "Progressing", "20"}, strings.Fields(rowOf(lines, ns))[:4])

	out, err = exec.Command(kubectl, "--kubeconfig", kubeconfig, "get", "canaries", "-A", "-o", "wide").CombinedOutput()
	require.NoError(t, err, string(out))
	lines = strings.Split(strings.TrimSpace(string(out)), "\n")
	assert.Equal(t, []string{"NAMESPACE", "NAME", "STATUS", "WEIGHT", "SUSPENDED", "FAILEDCHECKS", "INTERVAL",
		"MIRROR", "STEPWEIGHT", "STEPWEIGHTS", "MAXWEIGHT", "LASTTRANSITIONTIME"}, strings.Fields(lines[0]))
	assert.Equal(t, []string{ns, "podinfo", "Progressing", "20", "1", "1m", "10", "50"},
		strings.Fields(rowOf(lines, ns))[:8], "suspended, mirror and stepWeights are empty and not printed")

	out, err = exec.Command(kubectl, "--kubeconfig", kubeconfig, "get", "all", "-n", ns).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "canary.flagger.app/podinfo", "canaries are in the category all")
}

// TestTableColumns reads the same columns through the Table API, the way
// dashboards and kubectl plugins do.
func TestTableColumns(t *testing.T) {
	ns := printed(t)
	raw, err := kube.Discovery().RESTClient().Get().
		AbsPath("/apis/flagger.app/v1beta1/namespaces", ns, "canaries").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").
		DoRaw(context.Background())
	require.NoError(t, err)
	var table metav1.Table
	require.NoError(t, json.Unmarshal(raw, &table))
	var names []string
	for _, c := range table.ColumnDefinitions {
		if c.Priority == 0 {
			names = append(names, c.Name)
		}
	}
	assert.Equal(t, []string{"Name", "Status", "Weight", "LastTransitionTime"}, names)
	require.Len(t, table.Rows, 1)
	assert.Equal(t, "Progressing", table.Rows[0].Cells[1])
}

func rowOf(lines []string, ns string) string {
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, ns+" ") {
			return l
		}
	}
	return ""
}
