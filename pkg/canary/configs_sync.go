package canary

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// trackedConfigs are the config objects a pod spec uses that are tracked,
// as read from the listers (cache objects: never change them).
type trackedConfigs struct {
	// checksums is the value of status.trackedConfigs; nil when tracking is off.
	checksums  map[string]string
	configMaps []*corev1.ConfigMap
	secrets    []*corev1.Secret
}

// resolveConfigs looks up the configs that spec uses. A missing optional
// object is skipped; a missing required one is an error.
func (c *Deployments) resolveConfigs(namespace string, spec *corev1.PodSpec) (trackedConfigs, error) {
	var out trackedConfigs
	if !c.trackConfigs {
		return out, nil
	}
	out.checksums = map[string]string{}
	for _, ref := range ReferencedConfigs(spec) {
		switch ref.Kind {
		case ConfigMapKind:
			cm, err := c.configMaps.ConfigMaps(namespace).Get(ref.Name)
			if apierrors.IsNotFound(err) && ref.Optional {
				continue
			}
			if err != nil {
				return out, fmt.Errorf("configmap %s.%s get query error: %w", ref.Name, namespace, err)
			}
			if TrackingDisabled(cm.Annotations) {
				continue
			}
			out.checksums[ref.Key()] = ConfigMapChecksum(cm)
			out.configMaps = append(out.configMaps, cm)
		case SecretKind:
			s, err := c.secrets.Get(namespace, ref.Name)
			if apierrors.IsNotFound(err) && ref.Optional {
				continue
			}
			if err != nil {
				return out, fmt.Errorf("secret %s.%s get query error: %w", ref.Name, namespace, err)
			}
			if TrackingDisabled(s.Annotations) || !TrackedSecretType(s.Type) {
				continue
			}
			out.checksums[ref.Key()] = SecretChecksum(s)
			out.secrets = append(out.secrets, s)
		}
	}
	return out, nil
}

// PrimaryConfigMap returns the -primary copy of a ConfigMap: same data,
// labels filtered by includePrefix, controlled by the canary and owned by
// target, the target's owner reference.
func PrimaryConfigMap(cd *flaggerv1.Canary, cm *corev1.ConfigMap, target metav1.OwnerReference,
	includePrefix []string) *corev1.ConfigMap {
	src := cm.DeepCopy()
	return &corev1.ConfigMap{
		ObjectMeta: primaryConfigMeta(cd, target, src.Name, src.Labels, includePrefix),
		Data:       src.Data,
		BinaryData: src.BinaryData,
	}
}

// PrimarySecret returns the -primary copy of a Secret: same type and data,
// labels filtered by includePrefix, controlled by the canary and owned by
// target.
func PrimarySecret(cd *flaggerv1.Canary, s *corev1.Secret, target metav1.OwnerReference,
	includePrefix []string) *corev1.Secret {
	src := s.DeepCopy()
	return &corev1.Secret{
		ObjectMeta: primaryConfigMeta(cd, target, src.Name, src.Labels, includePrefix),
		Type:       src.Type,
		Data:       src.Data,
	}
}

func primaryConfigMeta(cd *flaggerv1.Canary, target metav1.OwnerReference, name string, labels map[string]string,
	prefixes []string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name + PrimarySuffix,
		Namespace:       cd.Namespace,
		Labels:          includeByPrefix(labels, prefixes),
		OwnerReferences: owners.Of(cd, target),
	}
}

// mergeOwnerRefs puts the desired owners of a copy (the canary's controller
// reference, then the target's) first and keeps the other owners of an
// existing object as plain owners: an object has at most one controller,
// and dropping the others would orphan it from them. A reference to an
// earlier owner of the same name (a target or canary deleted and
// re-created) is replaced.
func mergeOwnerRefs(want, existing []metav1.OwnerReference) []metav1.OwnerReference {
	out := slices.Clone(want)
	for _, ref := range existing {
		if slices.ContainsFunc(want, func(w metav1.OwnerReference) bool { return w.UID == ref.UID || owners.Same(w, ref) }) {
			continue
		}
		if ptr.Deref(ref.Controller, false) {
			ref.Controller = ptr.To(false)
		}
		out = append(out, ref)
	}
	return out
}

// syncPrimaryConfigs creates or updates the -primary copies of the tracked
// configs, writing only those that differ; target is the target's owner
// reference.
func (c *Deployments) syncPrimaryConfigs(ctx context.Context, cd *flaggerv1.Canary, target metav1.OwnerReference,
	tc trackedConfigs) error {
	for _, cm := range tc.configMaps {
		if err := c.syncPrimaryConfigMap(ctx, PrimaryConfigMap(cd, cm, target, c.includePrefix)); err != nil {
			return err
		}
	}
	for _, s := range tc.secrets {
		if err := c.syncPrimarySecret(ctx, PrimarySecret(cd, s, target, c.includePrefix)); err != nil {
			return err
		}
	}
	return nil
}

func (c *Deployments) syncPrimaryConfigMap(ctx context.Context, want *corev1.ConfigMap) error {
	client := c.kube.CoreV1().ConfigMaps(want.Namespace)
	have, err := c.configMaps.ConfigMaps(want.Namespace).Get(want.Name)
	if apierrors.IsNotFound(err) {
		if _, err := client.Create(ctx, want, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating configmap %s.%s failed: %w", want.Name, want.Namespace, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("configmap %s.%s get query error: %w", want.Name, want.Namespace, err)
	}
	refs := mergeOwnerRefs(want.OwnerReferences, have.OwnerReferences)
	if equality.Semantic.DeepEqual(have.Data, want.Data) &&
		equality.Semantic.DeepEqual(have.BinaryData, want.BinaryData) &&
		equality.Semantic.DeepEqual(have.Labels, want.Labels) &&
		equality.Semantic.DeepEqual(have.OwnerReferences, refs) {
		return nil
	}
	upd := have.DeepCopy()
	upd.Data, upd.BinaryData, upd.Labels, upd.OwnerReferences = want.Data, want.BinaryData, want.Labels, refs
	if _, err := client.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating configmap %s.%s failed: %w", want.Name, want.Namespace, err)
	}
	return nil
}

// syncPrimarySecret is syncPrimaryConfigMap for Secrets. The type of a Secret
// is immutable, so it is set on create only.
func (c *Deployments) syncPrimarySecret(ctx context.Context, want *corev1.Secret) error {
	client := c.kube.CoreV1().Secrets(want.Namespace)
	have, err := c.secrets.Get(want.Namespace, want.Name)
	if apierrors.IsNotFound(err) {
		if _, err := client.Create(ctx, want, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating secret %s.%s failed: %w", want.Name, want.Namespace, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("secret %s.%s get query error: %w", want.Name, want.Namespace, err)
	}
	refs := mergeOwnerRefs(want.OwnerReferences, have.OwnerReferences)
	if equality.Semantic.DeepEqual(have.Data, want.Data) &&
		equality.Semantic.DeepEqual(have.Labels, want.Labels) &&
		equality.Semantic.DeepEqual(have.OwnerReferences, refs) {
		return nil
	}
	upd := have.DeepCopy()
	upd.Data, upd.Labels, upd.OwnerReferences = want.Data, want.Labels, refs
	if _, err := client.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating secret %s.%s failed: %w", want.Name, want.Namespace, err)
	}
	return nil
}
