package secretcache

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/serin-dev/serin/test/lib/must"
)

func secret(name, data string, controller types.UID) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "test", ResourceVersion: "1"},
		Data:       map[string][]byte{"key": []byte(data)},
	}
	if controller != "" {
		yes := true
		s.OwnerReferences = []metav1.OwnerReference{{APIVersion: "flagger.app/v1beta1", Kind: "Canary", Name: "podinfo", UID: controller, Controller: &yes}}
	}
	return s
}

// gets counts the Secrets read from the API server.
func gets(client *fake.Clientset) int {
	n := 0
	for _, a := range client.Actions() {
		if a.GetVerb() == "get" && a.GetResource().Resource == "secrets" {
			n++
		}
	}
	return n
}

// newCache starts an informer over client and returns the Cache on it. The
// operator's informer holds metadata only; the Cache reads any object's
// metadata the same way.
func newCache(t *testing.T, client *fake.Clientset) *Cache {
	t.Helper()
	factory := informers.NewSharedInformerFactory(client, 0)
	informer := factory.Core().V1().Secrets().Informer()
	c, err := New(client, informer)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return c
}

func TestGetReadsOnlyWhatChanged(t *testing.T) {
	client := fake.NewClientset(secret("db", "v1", ""), secret("other", "x", ""))
	c := newCache(t, client)
	client.ClearActions()

	_, err := c.Get("test", "missing")
	assert.True(t, apierrors.IsNotFound(err))
	assert.Zero(t, gets(client), "the metadata says it does not exist")

	s, err := c.Get("test", "db")
	require.NoError(t, err)
	assert.Equal(t, "v1", string(s.Data["key"]))
	_, err = c.Get("test", "db")
	require.NoError(t, err)
	assert.Equal(t, 1, gets(client), "read once while unchanged")
	assert.Equal(t, 1, c.Held(), "only the Secret asked for is held")

	changed := secret("db", "v2", "")
	changed.ResourceVersion = "2"
	_, err = client.CoreV1().Secrets("test").Update(context.Background(), changed, metav1.UpdateOptions{})
	require.NoError(t, err)
	must.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		s, err := c.Get("test", "db")
		return err == nil && string(s.Data["key"]) == "v2", err
	}, "the new data")

	require.NoError(t, client.CoreV1().Secrets("test").Delete(context.Background(), "db", metav1.DeleteOptions{}))
	must.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		_, err := c.Get("test", "db")
		return apierrors.IsNotFound(err), nil
	}, "the deletion")
	assert.Zero(t, c.Held(), "a deleted Secret is dropped")
}

func TestGetReturnsReadErrors(t *testing.T) {
	client := fake.NewClientset(secret("db", "v1", ""))
	c := newCache(t, client)
	client.PrependReactor("get", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("secrets"), "db", nil)
	})
	_, err := c.Get("test", "db")
	assert.True(t, apierrors.IsForbidden(err))
	assert.Zero(t, c.Held())
}

func TestControlledBy(t *testing.T) {
	client := fake.NewClientset(secret("db-primary", "v1", "uid-1"), secret("db", "v1", ""), secret("api-primary", "v1", "uid-2"))
	c := newCache(t, client)
	client.ClearActions()
	got, err := c.ControlledBy("test", "uid-1")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "db-primary", got[0].Name)
	assert.Equal(t, 1, gets(client), "only the controlled Secret is read")
	none, err := c.ControlledBy("other", "uid-1")
	require.NoError(t, err)
	assert.Empty(t, none)
}
