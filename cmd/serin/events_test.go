package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/must"
)

func TestShardedRecorderPostsEveryEvent(t *testing.T) {
	kube := fake.NewClientset()
	r := newShardedRecorder(t.Context(), kube, 4)
	defer r.Shutdown()
	canary := func(i int) *flaggerv1.Canary {
		return &flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d", i), Namespace: "test", UID: "uid"}}
	}
	for i := range 20 {
		r.Event(canary(i), corev1.EventTypeNormal, "Synced", "Advance canary weight 10")
		r.Eventf(canary(i), corev1.EventTypeNormal, "Synced", "Advance canary weight %d", 20)
	}
	must.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, error) {
		list, err := kube.CoreV1().Events("test").List(t.Context(), metav1.ListOptions{})
		return err == nil && len(list.Items) == 40, err
	}, "40 events")

	assert.Same(t, r.shard(canary(1)), r.shard(canary(1)), "one canary, one shard: its events keep their order")
	shards := map[any]bool{}
	for i := range 20 {
		shards[r.shard(canary(i))] = true
	}
	assert.Greater(t, len(shards), 1, "canaries are spread over the shards")
}
