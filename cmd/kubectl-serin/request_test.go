package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// operator answers a pending request as the operator would, on the next
// read of the canary: answer changes the canary and returns the event to
// record ("" for none). It is a reactor, so the read returns the answer.
func operator(f fakeCLI, answer func(cd *flaggerv1.Canary, id string) (typ, message string)) {
	f.serin.PrependReactor("get", "canaries", func(k8stesting.Action) (bool, runtime.Object, error) {
		obj, err := f.serin.Tracker().Get(flaggerv1.SchemeGroupVersion.WithResource("canaries"), "test", "podinfo")
		if err != nil {
			return false, nil, nil
		}
		cd := obj.(*flaggerv1.Canary).DeepCopy()
		id := analysis.PendingRequest(cd)
		if id == "" {
			return false, nil, nil
		}
		typ, message := answer(cd, id)
		if err := f.serin.Tracker().Update(flaggerv1.SchemeGroupVersion.WithResource("canaries"), cd, "test"); err != nil {
			return true, nil, err
		}
		if message != "" {
			ev := newEvent("ev-"+id, typ, "Synced", message, t0)
			if err := f.kube.(interface {
				Tracker() k8stesting.ObjectTracker
			}).Tracker().Add(ev); err != nil {
				return true, nil, err
			}
		}
		return false, nil, nil
	})
}

func handledWith(typ, format string) func(cd *flaggerv1.Canary, id string) (string, string) {
	return func(cd *flaggerv1.Canary, id string) (string, string) {
		cd.Status.LastHandledRequest = id
		if format == "" {
			return "", ""
		}
		return typ, fmt.Sprintf(format, id)
	}
}

func TestRequest(t *testing.T) {
	tests := []struct {
		name    string
		command string
		full    bool
		noWait  bool
		answer  func(cd *flaggerv1.Canary, id string) (string, string)
		action  string
		code    int
		stdout  string
		stderr  string
	}{
		{
			name: "promote acted", command: "promote", action: analysis.RequestPromote,
			answer: handledWith(corev1.EventTypeNormal, "Request promote (%s): the waiting confirm gates open once"),
			code:   exitOK, stdout: "Normal Synced Request promote (promote-",
		},
		{
			name: "promote --full", command: "promote", full: true, action: analysis.RequestPromoteFull,
			answer: handledWith(corev1.EventTypeNormal, "Request promote-full (%s): promoting podinfo.test without the rest of its analysis"),
			code:   exitOK, stdout: "without the rest of its analysis",
		},
		{
			name: "abort acted", command: "abort", action: analysis.RequestAbort,
			answer: handledWith(corev1.EventTypeWarning, "Rolling back podinfo.test: aborted by request %s"),
			code:   exitOK, stdout: "Warning Synced Rolling back podinfo.test: aborted by request abort-",
		},
		{
			name: "retry ignored", command: "retry", action: analysis.RequestRetry,
			answer: handledWith(corev1.EventTypeNormal, "Request retry (%s) ignored: nothing to retry while the canary is Succeeded"),
			code:   exitFailed, stderr: "ignored: nothing to retry while the canary is Succeeded",
		},
		{
			name: "no operator", command: "abort", action: analysis.RequestAbort,
			code: exitTimeout, stderr: "status.lastHandledRequest does not name it yet",
		},
		{
			name: "handled, event lost", command: "abort", action: analysis.RequestAbort,
			answer: handledWith("", ""),
			code:   exitTimeout, stderr: "its event has not arrived",
		},
		{
			name: "superseded", command: "promote", action: analysis.RequestPromote,
			answer: func(cd *flaggerv1.Canary, id string) (string, string) {
				cd.Annotations[analysis.RequestIDAnnotation] = "abort-other"
				return "", ""
			},
			code: exitFailed, stderr: "was replaced by request abort-other",
		},
		{
			name: "without waiting", command: "retry", noWait: true, action: analysis.RequestRetry,
			code: exitOK, stdout: "request retry (retry-",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cd := newCanary(withStatus(flaggerv1.CanaryPhaseProgressing, 50, 0), withRevision("abc", "def"),
				withRequest("promote", "promote-old", "promote-old"))
			f := newFakeCLI(&options{name: tt.command, args: []string{"podinfo"}, full: tt.full, wait: !tt.noWait,
				timeout: 100 * time.Millisecond, interval: 10 * time.Millisecond}, cd)
			if tt.answer != nil {
				operator(f, tt.answer)
			}
			assert.Equal(t, tt.code, runRequest(t.Context(), f.cli), f.stderr.String())
			assert.Contains(t, f.stdout.String(), tt.stdout)
			assert.Contains(t, f.stderr.String(), tt.stderr)

			var patch *k8stesting.PatchActionImpl
			for _, a := range f.serin.Actions() {
				if p, ok := a.(k8stesting.PatchActionImpl); ok {
					patch = &p
				}
			}
			require.NotNil(t, patch, "the request is a patch")
			assert.Equal(t, fieldManager, patch.PatchOptions.FieldManager)
			assert.Equal(t, "application/merge-patch+json", string(patch.PatchType))
			got, err := f.serin.Tracker().Get(flaggerv1.SchemeGroupVersion.WithResource("canaries"), "test", "podinfo")
			require.NoError(t, err)
			ann := got.(*flaggerv1.Canary).Annotations
			assert.Equal(t, tt.action, ann[analysis.RequestAnnotation])
			assert.Equal(t, "abc", ann[analysis.RequestRevisionAnnotation], "the revision the status names")
			if tt.name != "superseded" {
				assert.Regexp(t, "^"+tt.action+"-[0-9a-f]{8}$", ann[analysis.RequestIDAnnotation], "a new id")
			}
		})
	}
}
