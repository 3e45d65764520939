package main

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/pager"
)

// eventsQuiet is how long the Canaries' Events must stay unchanged before
// an operator that does not say what it still holds counts as drained.
const eventsQuiet = 15 * time.Second

// canaryEvents counts the occurrences the API server holds of Events about
// Canaries: each Event's count, as every delivered repeat raises it. The
// difference over a phase is what the operator delivered in it, whether it
// created Events or patched repeats, and whatever it dropped on the way
// (client-go's broadcaster drops under load; that is part of the measure).
func canaryEvents(ctx context.Context, kube kubernetes.Interface) (int, error) {
	total := 0
	p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return kube.CoreV1().Events("").List(ctx, opts)
	})
	opts := metav1.ListOptions{FieldSelector: "involvedObject.kind=Canary"}
	err := p.EachListItem(ctx, opts, func(obj runtime.Object) error {
		if ev, ok := obj.(*corev1.Event); ok {
			total += occurrences(ev)
		}
		return nil
	})
	return total, err
}

// occurrences is how many times an Event happened: its count, at least one.
func occurrences(ev *corev1.Event) int {
	return max(1, int(ev.Count))
}

// waitEventsSettled polls the Canaries' Events until their count has not
// changed for eventsQuiet, and says whether it did within the bound.
func waitEventsSettled(ctx context.Context, kube kubernetes.Interface, bound time.Duration, logf func(string, ...any)) (bool, error) {
	const every = 5 * time.Second
	last, stable := -1, time.Duration(0)
	deadline := time.Now().Add(bound)
	for {
		n, err := canaryEvents(ctx, kube)
		if err != nil {
			return false, err
		}
		if n == last {
			stable += every
		} else {
			last, stable = n, 0
		}
		if stable >= eventsQuiet {
			return true, nil
		}
		if !time.Now().Before(deadline) {
			return false, nil
		}
		logf("bench: %d Canary event occurrences, unchanged for %s", n, stable)
		if err := sleep(ctx, every); err != nil {
			return false, err
		}
	}
}
