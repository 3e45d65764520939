package syncerr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestPermanent(t *testing.T) {
	base := errors.New("no Gateway")
	tests := []struct {
		name      string
		err       error
		permanent bool
	}{
		{"nil", nil, false},
		{"plain", base, false},
		{"marked", Permanent(base), true},
		{"marked, then wrapped by the caller", fmt.Errorf("reconcile route: %w", Permanent(base)), true},
		{"invalid field", Invalid("spec.targetRef.kind", "%s is not supported", "DaemonSet"), true},
		{"a refusal type", refusal{permanent: true}, true},
		{"a refusal type that may pass later", refusal{}, false},
		{"a refusal among others", errors.Join(base, fmt.Errorf("match: %w", refusal{permanent: true})), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.permanent, IsPermanent(tt.err))
		})
	}
	assert.NoError(t, Permanent(nil))
	assert.ErrorIs(t, Permanent(base), base, "the cause stays reachable")
	assert.EqualError(t, Invalid("spec.targetRef.kind", "%s is not supported", "DaemonSet"),
		"spec.targetRef.kind: DaemonSet is not supported")
}

type refusal struct{ permanent bool }

func (r refusal) Error() string   { return "refused" }
func (r refusal) Permanent() bool { return r.permanent }

func TestNamespaceTerminating(t *testing.T) {
	refusal := apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "podinfo", errors.New("namespace test is being terminated"))
	assert.False(t, NamespaceTerminating(refusal), "a plain Forbidden")
	refusal.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause}}
	assert.True(t, NamespaceTerminating(refusal))
	assert.True(t, NamespaceTerminating(fmt.Errorf("create service: %w", refusal)))
	assert.False(t, NamespaceTerminating(nil))
}
