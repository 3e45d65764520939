package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	informers "github.com/serin-dev/serin/pkg/client/informers/externalversions"
)

// weightChange is a canary weight seen on an HTTPRoute, and when.
type weightChange struct {
	at     time.Time
	weight int
}

// observer watches the canaries and their routes (as the admin, so that its
// requests are not the operator's) and records when each canary first
// reached each phase and when its route's canary weight changed.
type observer struct {
	mu        sync.Mutex
	phases    map[string]map[flaggerv1.CanaryPhase]time.Time
	weights   map[string][]weightChange
	triggered map[string]time.Time
}

func startObserver(ctx context.Context, e *env) (*observer, error) {
	o := &observer{
		phases:    map[string]map[flaggerv1.CanaryPhase]time.Time{},
		weights:   map[string][]weightChange{},
		triggered: map[string]time.Time{},
	}
	strip := informers.WithTransform(stripManagedFields)
	ff := informers.NewSharedInformerFactoryWithOptions(e.flagger, 0, strip)
	gf := gatewayinformers.NewSharedInformerFactoryWithOptions(e.gateway, 0, gatewayinformers.WithTransform(stripManagedFields))
	canaries := ff.Flagger().V1beta1().Canaries().Informer()
	routes := gf.Gateway().V1().HTTPRoutes().Informer()
	handlers := []struct {
		inf cache.SharedIndexInformer
		fn  func(any)
	}{{canaries, o.canary}, {routes, o.route}}
	for _, h := range handlers {
		_, err := h.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    h.fn,
			UpdateFunc: func(_, obj any) { h.fn(obj) },
		})
		if err != nil {
			return nil, err
		}
	}
	ff.Start(ctx.Done())
	gf.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), canaries.HasSynced, routes.HasSynced) {
		return nil, fmt.Errorf("observer caches did not sync")
	}
	return o, nil
}

func stripManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

func (o *observer) canary(obj any) {
	cd, ok := obj.(*flaggerv1.Canary)
	if !ok {
		return
	}
	now := time.Now()
	key := cd.Namespace + "/" + cd.Name
	o.mu.Lock()
	defer o.mu.Unlock()
	seen := o.phases[key]
	if seen == nil {
		seen = map[flaggerv1.CanaryPhase]time.Time{}
		o.phases[key] = seen
	}
	if _, ok := seen[cd.Status.Phase]; !ok {
		seen[cd.Status.Phase] = now
	}
}

func (o *observer) route(obj any) {
	route, ok := obj.(*gatewayv1.HTTPRoute)
	if !ok {
		return
	}
	weight := canaryWeight(route)
	key := route.Namespace + "/" + route.Name
	o.mu.Lock()
	defer o.mu.Unlock()
	history := o.weights[key]
	if len(history) == 0 || history[len(history)-1].weight != weight {
		o.weights[key] = append(history, weightChange{at: time.Now(), weight: weight})
	}
}

// canaryWeight is the weight of the canary backend (the route is named
// after the target, the canary Service has the suffix -canary).
func canaryWeight(route *gatewayv1.HTTPRoute) int {
	for _, rule := range route.Spec.Rules {
		for _, b := range rule.BackendRefs {
			if string(b.Name) == route.Name+"-canary" && b.Weight != nil {
				return int(*b.Weight)
			}
		}
	}
	return 0
}

func (o *observer) trigger(a app) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.triggered[a.key()] = time.Now()
}

// reached counts the canaries that have reached one of the phases.
func (o *observer) reached(phases ...flaggerv1.CanaryPhase) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, seen := range o.phases {
		for _, p := range phases {
			if _, ok := seen[p]; ok {
				n++
				break
			}
		}
	}
	return n
}

// last returns when the last canary reached phase.
func (o *observer) last(phase flaggerv1.CanaryPhase) time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	var last time.Time
	for _, seen := range o.phases {
		if t := seen[phase]; t.After(last) {
			last = t
		}
	}
	return last
}

// rolloutTimes returns, per canary, the time from its new revision to
// Succeeded.
func (o *observer) rolloutTimes() []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []time.Duration
	for key, at := range o.triggered {
		if done, ok := o.phases[key][flaggerv1.CanaryPhaseSucceeded]; ok {
			out = append(out, done.Sub(at))
		}
	}
	return out
}

// stepGaps returns the time between consecutive weight increases (10 → 20,
// 20 → 30, ...) of every route; the first step (from 0) is not a gap.
func (o *observer) stepGaps() []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	var gaps []time.Duration
	for _, history := range o.weights {
		for i := 1; i < len(history); i++ {
			prev, cur := history[i-1], history[i]
			if prev.weight > 0 && cur.weight > prev.weight {
				gaps = append(gaps, cur.at.Sub(prev.at))
			}
		}
	}
	return gaps
}

// stage is one leg of a release, measured per canary.
type stage struct {
	name  string
	ideal string
	times []time.Duration
}

// stages splits each canary's release into its legs, from the new revision
// to Succeeded, so that a slow rollout shows where its time went: noticing
// the revision, the canary's pods, the weight steps, the promotion's
// primary rollout, the scale-down.
func (o *observer) stages(interval time.Duration) []stage {
	o.mu.Lock()
	defer o.mu.Unlock()
	iv := interval.String()
	out := []stage{
		{name: "new revision → Progressing", ideal: "0 (at once)"},
		{name: "Progressing → first weight step", ideal: iv + " (canary pods ready)"},
		{name: "first → last weight step", ideal: "4 × " + iv},
		{name: "last weight step → Promoting", ideal: iv},
		{name: "Promoting → Finalising (traffic back on the primary)", ideal: iv + " (primary rollout)"},
		{name: "Finalising → Succeeded", ideal: iv},
	}
	for key, at := range o.triggered {
		seen := o.phases[key]
		first, last, ok := o.stepTimes(key)
		if !ok {
			continue
		}
		marks := []time.Time{at, seen[flaggerv1.CanaryPhaseProgressing], first, last,
			seen[flaggerv1.CanaryPhasePromoting], seen[flaggerv1.CanaryPhaseFinalising], seen[flaggerv1.CanaryPhaseSucceeded]}
		if slices.ContainsFunc(marks, time.Time.IsZero) {
			continue
		}
		for i := range out {
			out[i].times = append(out[i].times, marks[i+1].Sub(marks[i]))
		}
	}
	return out
}

// stepTimes returns when a route's canary weight first rose above 0 and
// when it last rose. The caller holds o.mu.
func (o *observer) stepTimes(key string) (first, last time.Time, ok bool) {
	history := o.weights[key]
	for i := 1; i < len(history); i++ {
		if history[i].weight <= history[i-1].weight {
			continue
		}
		if first.IsZero() {
			first = history[i].at
		}
		last = history[i].at
	}
	return first, last, !first.IsZero()
}
