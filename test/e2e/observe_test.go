package e2e

import (
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/test/lib/must"
)

// sortEvents orders events by when they were last seen, then first seen.
func sortEvents(events []corev1.Event) {
	slices.SortStableFunc(events, func(a, b corev1.Event) int {
		if c := a.FirstTimestamp.Time.Compare(b.FirstTimestamp.Time); c != 0 {
			return c
		}
		return a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time)
	})
}

// hasEvents checks that each want is a substring of some event, in order.
func hasEvents(messages []string, want ...string) (bool, string) {
	i := 0
	for _, m := range messages {
		if i < len(want) && strings.Contains(m, want[i]) {
			i++
		}
	}
	if i == len(want) {
		return true, ""
	}
	return false, want[i]
}

// requireEvents fails unless the canary's events contain want, in order.
// The recorder writes events asynchronously, so the events of the step
// that wrote a phase may reach the API a moment after it: wait a little.
func requireEvents(t *testing.T, namespace string, want ...string) {
	t.Helper()
	var messages []string
	missing := ""
	err := must.Poll(10*time.Second, 200*time.Millisecond, func() (bool, error) {
		messages = eventMessages(t, namespace)
		var ok bool
		ok, missing = hasEvents(messages, want...)
		return ok, nil
	})
	require.NoError(t, err, "event %q missing or out of order in:\n%s", missing, strings.Join(messages, "\n"))
}

// weightWatcher records every distinct canary weight the HTTPRoute carries.
type weightWatcher struct {
	mu      sync.Mutex
	weights []int32
	stop    chan struct{}
	done    chan struct{}
}

// watchWeights polls the canary's HTTPRoute until stopped. Polling every
// 200 ms cannot miss a weight: each one holds for an analysis interval.
func watchWeights(t *testing.T, namespace string) *weightWatcher {
	w := &weightWatcher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		ticker := time.NewTicker(200 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-ticker.C:
			}
			route, err := env.gateway.GatewayV1().HTTPRoutes(namespace).Get(t.Context(), "podinfo", metav1.GetOptions{})
			if err != nil || len(route.Spec.Rules) == 0 {
				continue
			}
			for _, b := range route.Spec.Rules[len(route.Spec.Rules)-1].BackendRefs {
				if string(b.Name) == "podinfo-canary" && b.Weight != nil {
					w.add(*b.Weight)
				}
			}
		}
	}()
	return w
}

func (w *weightWatcher) add(weight int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.weights); n == 0 || w.weights[n-1] != weight {
		w.weights = append(w.weights, weight)
	}
}

// seen stops the watcher and returns the distinct weights in order.
func (w *weightWatcher) seen() []int32 {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.weights
}

// kubectlGetCanaries runs `kubectl get canaries -A` as a user would.
func kubectlGetCanaries(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("kubectl", "--kubeconfig", env.cluster.KubeconfigPath, "get", "canaries", "-A").CombinedOutput()
	require.NoError(t, err, string(out))
	return string(out)
}
