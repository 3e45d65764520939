package canary

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"sort"

	corev1 "k8s.io/api/core/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// PodTemplateHash returns the revision hash of a pod template, stored in
// status.lastAppliedSpec and status.lastPromotedSpec: the first 8 bytes, in
// hex, of the SHA-256 of its canonical JSON. Every key, struct fields
// included, is sorted, and nulls, empty objects and empty lists are left
// out, so the hash depends neither on map order nor on the order of fields
// in the Go types, and stays the same across restarts, Go versions and
// Kubernetes library versions that add fields or omitempty/omitzero tags
// (metadata.creationTimestamp went from null to absent that way).
//
// It differs from Flagger's (FNV-32a of a spew dump), so the first check of
// a canary taken over from Flagger sees a changed spec.
func PodTemplateHash(t *corev1.PodTemplateSpec) (string, error) {
	b, err := canonicalJSON(t)
	if err != nil {
		return "", fmt.Errorf("hashing pod template: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

// canonicalJSON encodes v, decodes it into generic values, prunes them and
// encodes them again: encoding/json writes map keys sorted, so the second
// pass sorts the struct fields too. Numbers are kept as written.
func canonicalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	pruned, _ := prune(generic)
	return json.Marshal(pruned)
}

// prune drops nulls, empty objects and empty lists from object fields,
// recursively, and reports whether anything is left of v. In the API they
// all mean "unset". List items are kept, empty or not, so that positions
// still count. Zero numbers, false and "" are kept: they can differ from
// unset (terminationGracePeriodSeconds: 0 is not the default 30).
func prune(v any) (any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, false
	case map[string]any:
		for k, child := range t {
			if p, keep := prune(child); keep {
				t[k] = p
			} else {
				delete(t, k)
			}
		}
		return t, len(t) > 0
	case []any:
		for i, item := range t {
			t[i], _ = prune(item)
		}
		return t, len(t) > 0
	default:
		return v, true
	}
}

// specChanged reports whether a pod template hash is a new revision for a
// canary's status: nothing was applied yet, or it differs from the last
// applied one. Returning to the last promoted hash is not a new revision:
// reverting the target (e.g. a git revert) must not start a release.
func specChanged(status flaggerv1.CanaryStatus, hash string) bool {
	if status.LastAppliedSpec == "" {
		return true
	}
	if status.LastPromotedSpec == hash {
		return false
	}
	return status.LastAppliedSpec != hash
}

// configChanges returns the keys of status.trackedConfigs (tracked) that
// current adds, removes or changes, sorted; empty when nothing changed.
func configChanges(tracked *map[string]string, current map[string]string) []string {
	var old map[string]string
	if tracked != nil {
		old = *tracked
	}
	var changed []string
	for k, sum := range current {
		if prev, ok := old[k]; !ok || prev != sum {
			changed = append(changed, k)
		}
	}
	for k := range old {
		if _, ok := current[k]; !ok {
			changed = append(changed, k)
		}
	}
	sort.Strings(changed)
	return changed
}

// Revision identifies what the target currently runs.
type Revision struct {
	// SpecHash is the PodTemplateHash of the target's pod template.
	SpecHash string
	// Configs maps configmap/<name> and secret/<name> to the checksums of the
	// tracked configs the target uses.
	Configs map[string]string
	// ConfigTracking is false when config tracking is disabled; Configs is
	// then nil and config changes are ignored.
	ConfigTracking bool
}

// Changed reports whether the revision is new for a canary's status: its
// spec changed (see specChanged) or, with config tracking, its configs.
func (r Revision) Changed(status flaggerv1.CanaryStatus) bool {
	return specChanged(status, r.SpecHash) ||
		(r.ConfigTracking && len(configChanges(status.TrackedConfigs, r.Configs)) > 0)
}

// ID returns the revision's v1beta1.RevisionID: what Promote is asked to
// copy and what the primary records.
func (r Revision) ID() string {
	if !r.ConfigTracking {
		return r.SpecHash
	}
	return flaggerv1.RevisionID(r.SpecHash, r.Configs)
}

// TrackedConfigs returns the value to store in status.trackedConfigs: a copy
// of Configs, nil without config tracking.
func (r Revision) TrackedConfigs() *map[string]string {
	if !r.ConfigTracking {
		return nil
	}
	m := maps.Clone(r.Configs)
	if m == nil {
		m = map[string]string{}
	}
	return &m
}

// Revision reads the target and the configs it uses and returns its current
// revision. A missing required ConfigMap or Secret is an error.
func (c *Deployments) Revision(ctx context.Context, cd *flaggerv1.Canary) (Revision, error) {
	if err := c.supportedAutoscaler(cd); err != nil {
		return Revision{}, err
	}
	k, err := c.kindOf(cd)
	if err != nil {
		return Revision{}, err
	}
	target, err := k.get(cd.Namespace, cd.Spec.TargetRef.Name)
	if err != nil {
		return Revision{}, err
	}
	hash, err := PodTemplateHash(target.template)
	if err != nil {
		return Revision{}, err
	}
	configs, err := c.resolveConfigs(cd.Namespace, &target.template.Spec)
	if err != nil {
		return Revision{}, err
	}
	return Revision{SpecHash: hash, Configs: configs.checksums, ConfigTracking: c.trackConfigs}, nil
}
