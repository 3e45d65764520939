package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
)

func TestVerdict(t *testing.T) {
	tests := []struct {
		phase   flaggerv1.CanaryPhase
		started bool
		code    int
		done    bool
	}{
		{flaggerv1.CanaryPhaseSucceeded, true, exitOK, true},
		{flaggerv1.CanaryPhaseInitialized, true, exitOK, true},
		{flaggerv1.CanaryPhaseFailed, true, exitFailed, true},
		{flaggerv1.CanaryPhaseProgressing, true, 0, false},
		{flaggerv1.CanaryPhaseWaitingPromotion, true, 0, false},
		{flaggerv1.CanaryPhaseFinalising, true, 0, false},
		{flaggerv1.CanaryPhaseSucceeded, false, 0, false},
		{flaggerv1.CanaryPhaseFailed, false, 0, false},
	}
	for _, tt := range tests {
		code, done := verdict(progress{phase: tt.phase, started: tt.started})
		assert.Equal(t, tt.done, done, "%s started=%v", tt.phase, tt.started)
		assert.Equal(t, tt.code, code, "%s started=%v", tt.phase, tt.started)
	}
}

// TestStatus runs the status command over fake clientsets: the revision
// waited for is the target's pod template hash unless --for-revision names
// one, and a status about another revision is waited out.
func TestStatus(t *testing.T) {
	target := newDeployment("podinfo", "podinfo:6.0.1", 1, 1)
	current, err := canary.PodTemplateHash(&target.Spec.Template)
	require.NoError(t, err)
	tests := []struct {
		name     string
		revision string // --for-revision
		objs     []runtime.Object
		code     int
		stderr   string
	}{
		{
			name: "succeeded",
			objs: []runtime.Object{target, newCanary(withStatus(flaggerv1.CanaryPhaseSucceeded, 0, 0), withRevision(current, current))},
			code: exitOK,
		},
		{
			name: "failed",
			objs: []runtime.Object{target, newCanary(withStatus(flaggerv1.CanaryPhaseFailed, 0, 5), withRevision(current, "old"))},
			code: exitFailed,
		},
		{
			name: "still progressing",
			objs: []runtime.Object{target, newCanary(withStatus(flaggerv1.CanaryPhaseProgressing, 50, 1), withRevision(current, "old"))},
			code: exitTimeout, stderr: "timed out after 50ms waiting for test/podinfo: revision " + current + " Progressing",
		},
		{
			name: "the previous release succeeded, this one not started",
			objs: []runtime.Object{target, newCanary(withStatus(flaggerv1.CanaryPhaseSucceeded, 0, 0), withRevision("old", "old"))},
			code: exitTimeout, stderr: "revision " + current + " not started (phase Succeeded of another revision)",
		},
		{
			name:     "for a revision given",
			revision: "old",
			objs:     []runtime.Object{target, newCanary(withStatus(flaggerv1.CanaryPhaseSucceeded, 0, 0), withRevision("old", "old"))},
			code:     exitOK,
		},
		{
			name: "target missing",
			objs: []runtime.Object{newCanary(withStatus(flaggerv1.CanaryPhaseSucceeded, 0, 0))},
			code: exitTimeout, stderr: `deployments.apps "podinfo" not found (retrying)`,
		},
		{
			name: "canary missing",
			objs: []runtime.Object{target},
			code: exitError, stderr: `canaries.flagger.app "podinfo" not found`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCLI(&options{name: "status", args: []string{"podinfo"}, revision: tt.revision,
				timeout: 50 * time.Millisecond, interval: 10 * time.Millisecond}, tt.objs...)
			assert.Equal(t, tt.code, runStatus(t.Context(), f.cli), f.stderr.String())
			assert.Contains(t, f.stderr.String(), tt.stderr)
		})
	}
}
