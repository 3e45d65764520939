package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	flaggerv1beta1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	informers "github.com/serin-dev/serin/pkg/client/informers/externalversions"
	"github.com/serin-dev/serin/test/lib/must"
)

// eventLog records what an informer delivered, safely across goroutines.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(event string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, event)
}

func (l *eventLog) has(event string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e == event {
			return true
		}
	}
	return false
}

// TestInformersSeeCanaryLifecycle runs the generated informer factory
// against the API server and checks that create, update and delete events
// arrive, and that the lister serves the cached object.
func TestInformersSeeCanaryLifecycle(t *testing.T) {
	const ns = "informers"
	ensureNamespace(t, ns)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	factory := informers.NewSharedInformerFactoryWithOptions(flagger, 0, informers.WithNamespace(ns))
	informer := factory.Flagger().V1beta1().Canaries()
	log := &eventLog{}
	_, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { log.add("add " + obj.(*flaggerv1beta1.Canary).Name) },
		UpdateFunc: func(_, obj any) {
			c := obj.(*flaggerv1beta1.Canary)
			log.add("update " + c.Name + " " + string(c.Status.Phase))
		},
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			log.add("delete " + obj.(*flaggerv1beta1.Canary).Name)
		},
	})
	require.NoError(t, err)
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())

	canary := &flaggerv1beta1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "watched", Namespace: ns},
		Spec: flaggerv1beta1.CanarySpec{
			TargetRef: flaggerv1beta1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Service:   flaggerv1beta1.CanaryService{Port: 9898},
			Analysis:  &flaggerv1beta1.CanaryAnalysis{Interval: "1m", StepWeight: 10},
		},
	}
	client := flagger.FlaggerV1beta1().Canaries(ns)
	created, err := client.Create(ctx, canary, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, log, "add watched")

	created.Status.Phase = flaggerv1beta1.CanaryPhaseInitialized
	_, err = client.UpdateStatus(ctx, created, metav1.UpdateOptions{})
	require.NoError(t, err)
	waitFor(t, log, "update watched Initialized")

	cached, err := informer.Lister().Canaries(ns).Get("watched")
	require.NoError(t, err)
	require.Equal(t, flaggerv1beta1.CanaryPhaseInitialized, cached.Status.Phase)

	require.NoError(t, client.Delete(ctx, "watched", metav1.DeleteOptions{}))
	waitFor(t, log, "delete watched")
}

func waitFor(t *testing.T, log *eventLog, event string) {
	t.Helper()
	must.Eventually(t, 10*time.Second, 50*time.Millisecond, func() (bool, error) {
		return log.has(event), nil
	}, "informer event %q", event)
}
