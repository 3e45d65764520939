package owners

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

var (
	cd = &flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", UID: "canary-uid"}}
	// target is the Deployment podinfo; earlier is the one it replaced.
	target  = Target("podinfo", "target-uid")
	earlier = Target("podinfo", "deleted-uid")
	other   = metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "shared", UID: "shared-uid"}
	// daemonSet is a DaemonSet target of the same name.
	daemonSet = TargetKind("DaemonSet", "podinfo", "ds-uid")
)

func TestOf(t *testing.T) {
	refs := Of(cd, target)
	assert.Equal(t, []metav1.OwnerReference{{
		APIVersion: "flagger.app/v1beta1", Kind: "Canary", Name: "podinfo", UID: "canary-uid",
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}, {
		APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo", UID: "target-uid",
	}}, refs, "the canary controls, the target owns without blocking its deletion")
}

func TestSame(t *testing.T) {
	assert.True(t, Same(target, earlier), "an owner re-created under its name")
	assert.True(t, Same(target, metav1.OwnerReference{APIVersion: "apps/v1beta2", Kind: "Deployment", Name: "podinfo"}),
		"whatever the version")
	assert.False(t, Same(target, metav1.OwnerReference{APIVersion: "extensions.example/v1", Kind: "Deployment", Name: "podinfo"}),
		"another group")
	assert.False(t, Same(target, Target("podinfo-primary", "target-uid")), "another name")
	assert.False(t, Same(target, Canary(cd)), "another kind")
	assert.False(t, Same(target, daemonSet), "a DaemonSet is not the Deployment of its name")
	assert.Equal(t, target, TargetKind("", "podinfo", "target-uid"), "an empty targetRef.kind means Deployment")
	assert.True(t, IsTarget(earlier, "podinfo"))
	assert.False(t, IsTarget(Canary(cd), "podinfo"))
}

func TestRewrites(t *testing.T) {
	controller := Canary(cd)
	tests := []struct {
		name    string
		rw      Rewrite
		in      []metav1.OwnerReference
		want    []metav1.OwnerReference
		changed bool
	}{
		{"add to the canary's", AddTarget(target), []metav1.OwnerReference{controller}, []metav1.OwnerReference{controller, target}, true},
		{"add, present", AddTarget(target), []metav1.OwnerReference{controller, target, other}, []metav1.OwnerReference{controller, target, other}, false},
		{"add replaces a re-created target in place", AddTarget(target), []metav1.OwnerReference{controller, earlier, other},
			[]metav1.OwnerReference{controller, target, other}, true},
		{"add to none", AddTarget(target), nil, []metav1.OwnerReference{target}, true},
		{"remove", RemoveTarget("podinfo"), []metav1.OwnerReference{controller, target, other}, []metav1.OwnerReference{controller, other}, true},
		{"remove whatever the UID", RemoveTarget("podinfo"), []metav1.OwnerReference{earlier}, nil, true},
		{"remove, absent", RemoveTarget("podinfo"), []metav1.OwnerReference{controller}, []metav1.OwnerReference{controller}, false},
		{"remove a DaemonSet target", RemoveTargetKind("DaemonSet", "podinfo"), []metav1.OwnerReference{controller, daemonSet, target},
			[]metav1.OwnerReference{controller, target}, true},
		{"remove a Deployment target only", RemoveTargetKind("", "podinfo"), []metav1.OwnerReference{daemonSet},
			[]metav1.OwnerReference{daemonSet}, false},
		{"hand over", HandOver(cd.UID, target), []metav1.OwnerReference{controller, other}, []metav1.OwnerReference{target, other}, true},
		{"hand over with the target there", HandOver(cd.UID, target), []metav1.OwnerReference{controller, earlier},
			[]metav1.OwnerReference{target}, true},
		{"handed over already", HandOver(cd.UID, target), []metav1.OwnerReference{target, other}, []metav1.OwnerReference{target, other}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]metav1.OwnerReference(nil), tt.in...)
			got, changed := tt.rw.Changes(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.changed, changed)
			assert.Equal(t, in, tt.in, "the input is not modified")
		})
	}
}
