package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestGet reads a release from fake clientsets and renders it.
func TestGet(t *testing.T) {
	waiting := newCanary(withStatus(flaggerv1.CanaryPhaseWaitingPromotion, 50, 0), withRevision("abc", "def"),
		withGate("gate", flaggerv1.ConfirmPromotionHook))
	tests := []struct {
		name   string
		output string
		objs   []any
		want   string
	}{
		{
			name: "waiting at a gate",
			objs: []any{
				waiting,
				newDeployment("podinfo-primary", "podinfo:6.0.0", 2, 2),
				newDeployment("podinfo", "podinfo:6.0.1", 1, 2),
				newRoute(50, 50),
				newEvent("e1", "Normal", "Synced", "Halt podinfo.test advancement waiting for promotion approval gate", t0),
				newEvent("e0", "Normal", "Synced", "Advance podinfo.test canary weight 50", t0.Add(-time.Minute)),
			},
			want: `Canary:      test/podinfo
Phase:       WaitingPromotion
Weight:      50
Iterations:  0
Checks:      0/5 failed
Revision:    abc (promoted def)

Workloads:
  ROLE      DEPLOYMENT        READY   IMAGE
  primary   podinfo-primary   2/2     podinfo:6.0.0
  target    podinfo           1/2     podinfo:6.0.1

HTTPRoute podinfo:
  backend   podinfo-primary   weight 50
  backend   podinfo-canary    weight 50
  parent    gateway           Accepted True   ResolvedRefs False (BackendNotFound)

Gates:
  confirm-promotion gate: Waiting (kubectl serin promote podinfo)

Events:
  2026-12-05T22:59:00Z  Normal  Synced  Advance podinfo.test canary weight 50
  2026-12-05T23:00:00Z  Normal  Synced  Halt podinfo.test advancement waiting for promotion approval gate
`,
		},
		{
			name: "not initialised yet",
			objs: []any{newCanary(withRequest("abort", "abort-1", ""))},
			want: `Canary:      test/podinfo
Phase:       -
Weight:      0
Iterations:  0
Checks:      0/5 failed
Revision:    - (promoted -)
Request:     abort (abort-1) pending

Workloads:
  ROLE      DEPLOYMENT        READY       IMAGE
  primary   podinfo-primary   not found   -
  target    podinfo           not found   -

HTTPRoute podinfo:
  not found
`,
		},
		{
			name:   "as JSON",
			output: "json",
			objs:   []any{newCanary(withStatus(flaggerv1.CanaryPhaseSucceeded, 0, 0))},
			want: `{
  "namespace": "test",
  "name": "podinfo",
  "phase": "Succeeded",
  "weight": 0,
  "failedChecks": 0,
  "threshold": 5,
  "iterations": 0,
  "workloads": [
    {
      "role": "primary",
      "name": "podinfo-primary",
      "ready": 0,
      "desired": 0,
      "missing": true
    },
    {
      "role": "target",
      "name": "podinfo",
      "ready": 0,
      "desired": 0,
      "missing": true
    }
  ],
  "route": {
    "name": "podinfo",
    "backends": null,
    "missing": true
  }
}
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCLI(&options{name: "get", args: []string{"podinfo"}, output: tt.output}, objects(tt.objs)...)
			require.Equal(t, exitOK, runGet(t.Context(), f.cli), f.stderr.String())
			assert.Equal(t, tt.want, f.stdout.String())
		})
	}
}

func TestGetMissingCanary(t *testing.T) {
	f := newFakeCLI(&options{name: "get", args: []string{"podinfo"}})
	assert.Equal(t, exitError, runGet(t.Context(), f.cli))
	assert.Contains(t, f.stderr.String(), `"podinfo" not found`)
}

// TestGetWatch prints the release again when it changes, and only then.
func TestGetWatch(t *testing.T) {
	cd := newCanary(withStatus(flaggerv1.CanaryPhaseProgressing, 10, 0))
	f := newFakeCLI(&options{name: "get", args: []string{"podinfo"}, watch: true, interval: 5 * time.Millisecond}, cd)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() { done <- runGet(ctx, f.cli) }()

	advanced := cd.DeepCopy()
	advanced.Status.CanaryWeight = 20
	require.Eventually(t, func() bool {
		return f.renders() == 1
	}, 5*time.Second, 5*time.Millisecond, "the first render")
	require.NoError(t, f.serin.Tracker().Update(flaggerv1.SchemeGroupVersion.WithResource("canaries"), advanced, "test"))
	require.Eventually(t, func() bool {
		return f.renders() == 2
	}, 5*time.Second, 5*time.Millisecond, "a render of the change")
	cancel()
	assert.Equal(t, exitOK, <-done)
	out := f.stdout.String()
	assert.Contains(t, out, "Weight:      10\n")
	assert.Contains(t, out, "Weight:      20\n")
	assert.Equal(t, 2, f.renders(), "no render without a change")
}
