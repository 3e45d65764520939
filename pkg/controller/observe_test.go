package controller

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// fakeObserved answers observe's reads; the writes are left to the nil
// embedded interface.
type fakeObserved struct {
	workloadWriter
	revision    canary.Revision
	revisionErr error
	primary     error
	target      error
	promoted    string
}

func (w *fakeObserved) Revision(context.Context, *flaggerv1.Canary) (canary.Revision, error) {
	return w.revision, w.revisionErr
}

func (w *fakeObserved) IsPrimaryReady(context.Context, *flaggerv1.Canary) error { return w.primary }

func (w *fakeObserved) IsCanaryReady(context.Context, *flaggerv1.Canary) error { return w.target }

func (w *fakeObserved) PrimaryRevision(*flaggerv1.Canary) string { return w.promoted }

// fakeRoutes answers GetRoutes.
type fakeRoutes struct {
	router.Interface
	routes router.Routes
	err    error
}

func (r *fakeRoutes) GetRoutes(context.Context, *flaggerv1.Canary) (router.Routes, error) {
	return r.routes, r.err
}

func TestObserve(t *testing.T) {
	notFound := apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "deployments"}, "podinfo")
	rev := canary.Revision{SpecHash: "h2", Configs: map[string]string{"configmap/a": "1"}, ConfigTracking: true}
	routeErr := errors.New("HTTPRoute podinfo.test parent gw is not ready")
	tests := []struct {
		name     string
		workload *fakeObserved
		routes   *fakeRoutes
		want     analysis.Observations
		err      string
	}{{
		name:     "everything ready",
		workload: &fakeObserved{revision: rev, promoted: "r1"},
		routes:   &fakeRoutes{routes: router.Routes{Primary: 70, Canary: 30}},
		want: analysis.Observations{TargetHash: "h2", TrackedConfigs: rev.Configs, PrimaryRevision: "r1",
			Primary: analysis.Readiness{State: analysis.Ready}, Canary: analysis.Readiness{State: analysis.Ready},
			Routes: analysis.Routes{Primary: 70, Canary: 30}},
	}, {
		name:     "a missing target stops the reads",
		workload: &fakeObserved{revisionErr: notFound},
		routes:   &fakeRoutes{},
		want:     analysis.Observations{TargetMissing: true},
	}, {
		name:     "a primary not created yet is waited for, the target past its deadline is failed",
		workload: &fakeObserved{revision: canary.Revision{SpecHash: "h2"}, primary: notFound, target: &canary.NotReadyError{Message: "stuck", Stuck: true}},
		routes:   &fakeRoutes{err: routeErr},
		want: analysis.Observations{TargetHash: "h2",
			Primary: analysis.Readiness{State: analysis.Waiting, Message: "podinfo-primary.test not ready: waiting for it to be created"},
			Canary:  analysis.Readiness{State: analysis.Failed, Message: "stuck"},
			Routes:  analysis.Routes{Err: routeErr}},
	}, {
		name:     "a target scaling down is waited for and says so",
		workload: &fakeObserved{revision: canary.Revision{SpecHash: "h2"}, target: &canary.NotReadyError{Message: "scaling down", Draining: true}},
		routes:   &fakeRoutes{},
		want: analysis.Observations{TargetHash: "h2", Primary: analysis.Readiness{State: analysis.Ready},
			Canary: analysis.Readiness{State: analysis.Waiting, Message: "scaling down", Draining: true}},
	}, {
		name:     "an unsupported target kind is permanent",
		workload: &fakeObserved{revisionErr: syncerr.Invalid("spec.targetRef.kind", "DaemonSet is not supported")},
		routes:   &fakeRoutes{},
		err:      "spec.targetRef.kind: DaemonSet is not supported",
	}, {
		name:     "any other read error is returned, to be retried",
		workload: &fakeObserved{revision: canary.Revision{SpecHash: "h2"}, target: errors.New("lister down")},
		routes:   &fakeRoutes{},
		err:      "canary readiness: lister down",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Controller{cfg: Config{Plugins: Plugins{Workload: tt.workload}}}
			cd := &flaggerv1.Canary{}
			cd.Name, cd.Namespace = "podinfo", "test"
			cd.Spec.TargetRef.Name = "podinfo"
			obs, err := c.observe(context.Background(), cd, tt.routes)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, obs)
		})
	}
}
