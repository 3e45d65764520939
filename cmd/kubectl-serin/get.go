package main

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
)

// eventsShown is how many of the canary's last events `get` shows.
const eventsShown = 10

func getFlags(o *options) {
	o.nargs = 1
	o.outputFlag()
	o.fs.BoolVar(&o.watch, "watch", false, "print the release again whenever it changes (polls every --interval)")
	o.fs.BoolVar(&o.watch, "w", false, "short for --watch")
	o.fs.DurationVar(&o.interval, "interval", o.interval, "how often --watch polls")
}

// runGet prints one release. With --watch it polls every interval and
// prints again when what it would print changed: polling, rather than
// watching the Canary, Deployments, route and events, keeps one code path
// and needs no watch verb beyond what `get` already reads.
func runGet(ctx context.Context, c *cli) int {
	name := c.opts.args[0]
	var last string
	for {
		text, err := c.renderGet(ctx, name)
		switch {
		case err != nil && !c.opts.watch:
			fmt.Fprintf(c.errOut, "kubectl serin get: %v\n", err)
			return exitError
		case err != nil:
			// A watch outlives a restart of the API server or a deleted canary.
			text = fmt.Sprintf("kubectl serin get: %v\n", err)
		}
		if text != last {
			if last != "" {
				fmt.Fprintln(c.out)
			}
			fmt.Fprint(c.out, text)
			last = text
		}
		if !c.opts.watch {
			return exitOK
		}
		select {
		case <-ctx.Done():
			return exitOK
		case <-time.After(c.opts.interval):
		}
	}
}

// renderGet reads the release and renders it as --output asks.
func (c *cli) renderGet(ctx context.Context, name string) (string, error) {
	r, err := c.release(ctx, name)
	if err != nil {
		return "", err
	}
	return c.format(r, func() string { return renderRelease(r, c.color) })
}

// release reads one canary and what it drives.
func (c *cli) release(ctx context.Context, name string) (release, error) {
	cd, err := c.serin.FlaggerV1beta1().Canaries(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return release{}, err
	}
	r := release{
		row:                rowOf(cd),
		Revision:           cd.Status.LastAppliedSpec,
		PromotedRevision:   cd.Status.LastPromotedSpec,
		LastHandledRequest: cd.Status.LastHandledRequest,
		Run:                cd.Status.Run,
		Paused:             cd.Status.Paused,
		Checks:             cd.Status.Checks,
		Gates:              gatesOf(cd),
	}
	for _, w := range []struct{ role, name string }{
		{"primary", canary.PrimaryName(cd)},
		{"target", cd.Spec.TargetRef.Name},
	} {
		wl, err := c.workload(ctx, w.role, w.name)
		if err != nil {
			return release{}, err
		}
		r.Workloads = append(r.Workloads, wl)
	}
	if r.Route, err = c.route(ctx, cd); err != nil {
		return release{}, err
	}
	events, err := c.kube.CoreV1().Events(cd.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Canary,involvedObject.name=" + cd.Name,
	})
	if err != nil {
		return release{}, err
	}
	r.Events = eventsOf(events.Items, eventsShown)
	return r, nil
}

// workload reads a Deployment; a missing one is shown, not an error (the
// primary does not exist before the canary is initialised).
func (c *cli) workload(ctx context.Context, role, name string) (workload, error) {
	d, err := c.kube.AppsV1().Deployments(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return workload{Role: role, Name: name, Missing: true}, nil
	}
	if err != nil {
		return workload{}, err
	}
	return workloadOf(role, d), nil
}

func workloadOf(role string, d *appsv1.Deployment) workload {
	w := workload{Role: role, Name: d.Name, Ready: d.Status.ReadyReplicas, Desired: 1}
	if d.Spec.Replicas != nil {
		w.Desired = *d.Spec.Replicas
	}
	for _, ct := range d.Spec.Template.Spec.Containers {
		w.Images = append(w.Images, ct.Image)
	}
	return w
}

// route reads the canary's HTTPRoute, named after its apex Service. The
// v1 client reads routes written through v1beta1 too: the API server
// serves both versions of one object.
func (c *cli) route(ctx context.Context, cd *flaggerv1.Canary) (*route, error) {
	apex, _, _ := cd.GetServiceNames()
	hr, err := c.gateway.GatewayV1().HTTPRoutes(cd.Namespace).Get(ctx, apex, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &route{Name: apex, Missing: true}, nil
	}
	if err != nil {
		return nil, err
	}
	return routeOf(hr), nil
}

// routeOf lists the backends of the route's rules (once each, with the
// weight of their first appearance: Serin writes the same split in every
// rule) and each parent's Accepted and ResolvedRefs conditions.
func routeOf(hr *gatewayv1.HTTPRoute) *route {
	r := &route{Name: hr.Name}
	seen := map[string]bool{}
	for _, rule := range hr.Spec.Rules {
		for _, b := range rule.BackendRefs {
			name := string(b.Name)
			if seen[name] {
				continue
			}
			seen[name] = true
			weight := int32(1)
			if b.Weight != nil {
				weight = *b.Weight
			}
			r.Backends = append(r.Backends, backend{Name: name, Weight: weight})
		}
	}
	for _, p := range hr.Status.Parents {
		name := string(p.ParentRef.Name)
		if p.ParentRef.Namespace != nil {
			name = string(*p.ParentRef.Namespace) + "/" + name
		}
		r.Parents = append(r.Parents, parent{
			Name:         name,
			Accepted:     conditionOf(p.Conditions, string(gatewayv1.RouteConditionAccepted)),
			ResolvedRefs: conditionOf(p.Conditions, string(gatewayv1.RouteConditionResolvedRefs)),
		})
	}
	return r
}

// conditionOf renders a condition as "True" or "False (Reason)", "-" when
// the parent has not set it.
func conditionOf(conds []metav1.Condition, typ string) string {
	for _, c := range conds {
		if c.Type == typ {
			if c.Status == metav1.ConditionTrue {
				return string(c.Status)
			}
			return fmt.Sprintf("%s (%s)", c.Status, c.Reason)
		}
	}
	return "-"
}
