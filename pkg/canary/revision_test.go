package canary

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func mustHash(t *testing.T, tpl *corev1.PodTemplateSpec) string {
	t.Helper()
	h, err := PodTemplateHash(tpl)
	require.NoError(t, err)
	return h
}

func TestPodTemplateHashIsStable(t *testing.T) {
	tpl := newDeployment("podinfo", withPodSpec(configPodSpec)).Spec.Template
	h := mustHash(t, &tpl)
	assert.Len(t, h, 16)
	assert.Equal(t, h, mustHash(t, tpl.DeepCopy()))
	// A stored hash must survive restarts, Go and library upgrades: changing
	// this value starts a release for every canary.
	assert.Equal(t, "90dd774c91d0e455", h, "golden hash")
}

func TestCanonicalJSON(t *testing.T) {
	type ab struct {
		A string `json:"a"`
		B int    `json:"b"`
	}
	type ba struct {
		B int    `json:"b"`
		A string `json:"a"`
	}
	x, err := canonicalJSON(ab{A: "x", B: 1})
	require.NoError(t, err)
	y, err := canonicalJSON(ba{A: "x", B: 1})
	require.NoError(t, err)
	assert.Equal(t, `{"a":"x","b":1}`, string(x))
	assert.Equal(t, x, y, "field order does not matter")

	in := map[string]any{"null": nil, "obj": map[string]any{}, "list": []any{},
		"nested": map[string]any{"empty": map[string]any{}, "nil": nil},
		"items":  []any{map[string]any{}, map[string]any{"x": nil, "y": 1}}, "zero": 0, "false": false, "str": ""}
	got, err := canonicalJSON(in)
	require.NoError(t, err)
	assert.Equal(t, `{"false":false,"items":[{},{"y":1}],"str":"","zero":0}`, string(got),
		"unset-like values go, zero values and list positions stay")
}

func TestPodTemplateHashIgnoresMapOrder(t *testing.T) {
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%02d", i)
	}
	build := func(order []string) *corev1.PodTemplateSpec {
		tpl := newDeployment("podinfo").Spec.Template.DeepCopy()
		tpl.Annotations = map[string]string{}
		tpl.Spec.NodeSelector = map[string]string{}
		for _, k := range order {
			tpl.Annotations[k] = "v-" + k
			tpl.Spec.NodeSelector[k] = "n-" + k
		}
		return tpl
	}
	reversed := make([]string, len(keys))
	for i, k := range keys {
		reversed[len(keys)-1-i] = k
	}
	want := mustHash(t, build(keys))
	for range 20 {
		assert.Equal(t, want, mustHash(t, build(reversed)))
	}
}

func TestPodTemplateHashSeesEveryChange(t *testing.T) {
	changes := map[string]func(*corev1.PodTemplateSpec){
		"image":      func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Image += "-next" },
		"label":      func(p *corev1.PodTemplateSpec) { p.Labels["version"] = "v2" },
		"annotation": func(p *corev1.PodTemplateSpec) { p.Annotations = map[string]string{"timestamp": "now"} },
		"env": func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}}
		},
		"resources": func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
		},
		"port":           func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Ports[0].ContainerPort = 8080 },
		"grace period":   func(p *corev1.PodTemplateSpec) { p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](5) },
		"empty to set":   func(p *corev1.PodTemplateSpec) { p.Spec.ServiceAccountName = "sa" },
		"container name": func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Name = "other" },
		"second container": func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "sidecar", Image: "x"})
		},
	}
	base := newDeployment("podinfo").Spec.Template
	seen := map[string]string{mustHash(t, &base): "base"}
	for name, change := range changes {
		tpl := base.DeepCopy()
		change(tpl)
		h := mustHash(t, tpl)
		prev, dup := seen[h]
		assert.False(t, dup, "%s hashes like %s", name, prev)
		seen[h] = name
	}
}

func TestHasSpecChanged(t *testing.T) {
	tests := []struct {
		name             string
		applied, promote string
		hash             string
		want             bool
	}{
		{"first sight", "", "", "a", true},
		{"same as applied", "a", "a", "a", false},
		{"new revision", "a", "a", "b", true},
		{"revert to the promoted spec", "b", "a", "a", false},
		{"still the failed revision", "b", "a", "b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := flaggerv1.CanaryStatus{LastAppliedSpec: tt.applied, LastPromotedSpec: tt.promote}
			assert.Equal(t, tt.want, specChanged(st, tt.hash))
		})
	}
}

func TestConfigChanges(t *testing.T) {
	tracked := func(m map[string]string) *map[string]string { return &m }
	tests := []struct {
		name    string
		tracked *map[string]string
		current map[string]string
		want    []string
	}{
		{"nothing tracked, nothing used", nil, map[string]string{}, nil},
		{"empty tracked, nothing used", tracked(map[string]string{}), nil, nil},
		{"first config", nil, map[string]string{"configmap/a": "1"}, []string{"configmap/a"}},
		{"unchanged", tracked(map[string]string{"configmap/a": "1", "secret/b": "2"}),
			map[string]string{"secret/b": "2", "configmap/a": "1"}, nil},
		{"changed", tracked(map[string]string{"configmap/a": "1", "secret/b": "2"}),
			map[string]string{"configmap/a": "1", "secret/b": "3"}, []string{"secret/b"}},
		{"added and removed", tracked(map[string]string{"configmap/a": "1"}),
			map[string]string{"configmap/c": "1"}, []string{"configmap/a", "configmap/c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, configChanges(tt.tracked, tt.current))
		})
	}
}

func TestRevisionChanged(t *testing.T) {
	tracked := map[string]string{"configmap/a": "1"}
	st := flaggerv1.CanaryStatus{LastAppliedSpec: "h", LastPromotedSpec: "h", TrackedConfigs: &tracked}
	cur := Revision{SpecHash: "h", Configs: map[string]string{"configmap/a": "2"}, ConfigTracking: true}
	assert.True(t, cur.Changed(st))
	cur.ConfigTracking = false
	assert.False(t, cur.Changed(st), "config changes are ignored without tracking")
	assert.Nil(t, cur.TrackedConfigs())
	cur.SpecHash = "other"
	assert.True(t, cur.Changed(st))

	empty := Revision{ConfigTracking: true}
	require.NotNil(t, empty.TrackedConfigs())
	assert.Empty(t, *empty.TrackedConfigs())
}

func TestControllerRevision(t *testing.T) {
	target := newDeployment("podinfo", withPodSpec(configPodSpec))
	f := newFixture(t, append(configObjects(), target)...)
	rev, err := f.ctrl.Revision(context.TODO(), newCanary())
	require.NoError(t, err)
	assert.Equal(t, mustHash(t, &target.Spec.Template), rev.SpecHash)
	assert.True(t, rev.ConfigTracking)
	assert.Len(t, rev.Configs, 9)
	assert.Equal(t, ConfigMapChecksum(newConfigMap("x", map[string]string{"a": "env"}, nil)), rev.Configs["configmap/cfg-env"])
	assert.Empty(t, f.writes())

	f = newFixtureWith(t, func(c *Config) { c.DisableConfigTracking = true }, target)
	rev, err = f.ctrl.Revision(context.TODO(), newCanary())
	require.NoError(t, err, "configs are not read without tracking")
	assert.False(t, rev.ConfigTracking)
	assert.Nil(t, rev.Configs)
}
