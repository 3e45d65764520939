package canary

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ConfigKind is the kind of a tracked configuration object, as it appears in
// the keys of status.trackedConfigs.
type ConfigKind string

const (
	// ConfigMapKind marks a ConfigMap: "configmap/<name>".
	ConfigMapKind ConfigKind = "configmap"
	// SecretKind marks a Secret: "secret/<name>".
	SecretKind ConfigKind = "secret"
)

// ConfigTrackingAnnotation opts a ConfigMap or Secret out of tracking when
// its value starts with "disable".
const ConfigTrackingAnnotation = "flagger.app/config-tracking"

// ConfigKey returns the status.trackedConfigs key of a config object.
func ConfigKey(kind ConfigKind, name string) string { return string(kind) + "/" + name }

// ConfigReference is a ConfigMap or Secret that a pod spec uses.
type ConfigReference struct {
	Kind ConfigKind
	Name string
	// Optional is set when every use of the object is marked optional, so
	// that the pods start without it.
	Optional bool
}

// Key returns the status.trackedConfigs key of the reference.
func (r ConfigReference) Key() string { return ConfigKey(r.Kind, r.Name) }

// ReferencedConfigs returns the ConfigMaps and Secrets that a pod spec uses
// through volumes, projected volumes, env and envFrom of its containers and
// init containers, sorted by key.
func ReferencedConfigs(spec *corev1.PodSpec) []ConfigReference {
	refs := map[string]*ConfigReference{}
	add := func(kind ConfigKind, name string, optional *bool) {
		if name == "" {
			return
		}
		opt := optional != nil && *optional
		// Unlike Flagger, an unset optional means required, as it does for
		// the kubelet, and one required use makes the object required.
		if r, ok := refs[ConfigKey(kind, name)]; ok {
			r.Optional = r.Optional && opt
			return
		}
		refs[ConfigKey(kind, name)] = &ConfigReference{Kind: kind, Name: name, Optional: opt}
	}
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil {
			add(ConfigMapKind, v.ConfigMap.Name, v.ConfigMap.Optional)
		}
		if v.Secret != nil {
			add(SecretKind, v.Secret.SecretName, v.Secret.Optional)
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil {
					add(ConfigMapKind, src.ConfigMap.Name, src.ConfigMap.Optional)
				}
				if src.Secret != nil {
					add(SecretKind, src.Secret.Name, src.Secret.Optional)
				}
			}
		}
	}
	for _, ctrs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for _, ctr := range ctrs {
			for _, env := range ctr.Env {
				if from := env.ValueFrom; from != nil && from.ConfigMapKeyRef != nil {
					add(ConfigMapKind, from.ConfigMapKeyRef.Name, from.ConfigMapKeyRef.Optional)
				} else if from != nil && from.SecretKeyRef != nil {
					add(SecretKind, from.SecretKeyRef.Name, from.SecretKeyRef.Optional)
				}
			}
			for _, from := range ctr.EnvFrom {
				if from.ConfigMapRef != nil {
					add(ConfigMapKind, from.ConfigMapRef.Name, from.ConfigMapRef.Optional)
				}
				if from.SecretRef != nil {
					add(SecretKind, from.SecretRef.Name, from.SecretRef.Optional)
				}
			}
		}
	}
	out := make([]ConfigReference, 0, len(refs))
	for _, r := range refs {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// TrackingDisabled reports whether an object's annotations opt it out of
// config tracking.
func TrackingDisabled(annotations map[string]string) bool {
	return strings.HasPrefix(annotations[ConfigTrackingAnnotation], "disable")
}

// TrackedSecretType reports whether Secrets of type t are tracked. Registry
// and service account token Secrets are not: they belong to the
// ServiceAccount, not to a revision of the app. An empty type is what the
// API server defaults to Opaque.
func TrackedSecretType(t corev1.SecretType) bool {
	switch t {
	case "", corev1.SecretTypeOpaque, corev1.SecretTypeBasicAuth,
		corev1.SecretTypeSSHAuth, corev1.SecretTypeTLS:
		return true
	}
	return false
}

// ConfigMapChecksum returns the checksum of a ConfigMap's data: the first 8
// bytes, in hex, of the SHA-256 of the JSON of .data, as Flagger stores it.
func ConfigMapChecksum(cm *corev1.ConfigMap) string {
	if len(cm.BinaryData) == 0 {
		return checksum(cm.Data)
	}
	// Unlike Flagger, binaryData counts too. Without it the checksum stays
	// Flagger's, so taking over from Flagger does not start a release.
	return checksum(struct {
		Data       map[string]string `json:"data"`
		BinaryData map[string][]byte `json:"binaryData"`
	}{cm.Data, cm.BinaryData})
}

// SecretChecksum returns the checksum of a Secret's data (see
// ConfigMapChecksum).
func SecretChecksum(s *corev1.Secret) string { return checksum(s.Data) }

func checksum(v any) string {
	// Maps of strings and bytes always marshal.
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// ApplyPrimaryConfigRefs renames, in spec, every use of a tracked config (a
// key of tracked) to its -primary copy. It changes spec in place: pass a
// copy, never an object from a lister.
func ApplyPrimaryConfigRefs(spec *corev1.PodSpec, tracked map[string]string) {
	rename := func(kind ConfigKind, name *string) {
		if _, ok := tracked[ConfigKey(kind, *name)]; ok {
			*name += PrimarySuffix
		}
	}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if v.ConfigMap != nil {
			rename(ConfigMapKind, &v.ConfigMap.Name)
		}
		if v.Secret != nil {
			rename(SecretKind, &v.Secret.SecretName)
		}
		if v.Projected != nil {
			for j := range v.Projected.Sources {
				src := &v.Projected.Sources[j]
				if src.ConfigMap != nil {
					rename(ConfigMapKind, &src.ConfigMap.Name)
				}
				if src.Secret != nil {
					rename(SecretKind, &src.Secret.Name)
				}
			}
		}
	}
	for _, ctrs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range ctrs {
			ctr := &ctrs[i]
			for j := range ctr.Env {
				if from := ctr.Env[j].ValueFrom; from != nil && from.ConfigMapKeyRef != nil {
					rename(ConfigMapKind, &from.ConfigMapKeyRef.Name)
				} else if from != nil && from.SecretKeyRef != nil {
					rename(SecretKind, &from.SecretKeyRef.Name)
				}
			}
			for j := range ctr.EnvFrom {
				from := &ctr.EnvFrom[j]
				if from.ConfigMapRef != nil {
					rename(ConfigMapKind, &from.ConfigMapRef.Name)
				}
				if from.SecretRef != nil {
					rename(SecretKind, &from.SecretRef.Name)
				}
			}
		}
	}
}
