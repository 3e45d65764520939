package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/serin-dev/serin/test/lib/must"
)

func TestFullControlPlaneRollsOutADeployment(t *testing.T) {
	t.Parallel()
	began := time.Now()
	c := StartForTest(t, Options{Full: true})
	t.Logf("full control plane with %d fake nodes ready in %s", len(c.Nodes), since(began))
	require.Equal(t, []string{"kwok-0", "kwok-1"}, c.Nodes)
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)

	labels := map[string]string{"app": "web"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: metav1.NamespaceDefault},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{FakeNodeLabel: "kwok"},
					// KWOK pulls nothing; the image only has to be valid.
					Containers: []corev1.Container{{Name: "web", Image: "example.invalid/web:1"}},
				},
			},
		},
	}
	created := time.Now()
	_, err := cs.AppsV1().Deployments(deploy.Namespace).Create(ctx, deploy, metav1.CreateOptions{})
	require.NoError(t, err)

	must.Eventually(t, 60*time.Second, 100*time.Millisecond, func() (bool, error) {
		d, err := cs.AppsV1().Deployments(deploy.Namespace).Get(ctx, deploy.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if !deploymentAvailable(d) || d.Status.AvailableReplicas != 2 {
			return false, fmt.Errorf("%d/2 replicas available, conditions %v", d.Status.AvailableReplicas, d.Status.Conditions)
		}
		return true, nil
	}, "deployment %s/%s", deploy.Namespace, deploy.Name)
	t.Logf("deployment Available %s after creation", since(created))

	pods, err := cs.CoreV1().Pods(deploy.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	require.NoError(t, err)
	require.Len(t, pods.Items, 2)
	for _, p := range pods.Items {
		assert.Contains(t, c.Nodes, p.Spec.NodeName, "pod %s", p.Name)
		assert.Equal(t, corev1.PodRunning, p.Status.Phase, "pod %s", p.Name)
		assert.NotEmpty(t, p.Status.PodIP, "pod %s", p.Name)
	}

	stopAndAssertGone(t, c)
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
