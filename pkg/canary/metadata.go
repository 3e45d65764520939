package canary

import "strings"

// FlaggerIDAnnotation is the pod template annotation that gets a fresh random
// value on every create and promotion, so that the primary always rolls.
const FlaggerIDAnnotation = "flagger-id"

// toolkitMarker is in every Flux ownership key. Copying those keys would make
// Flux adopt (and prune or revert) the objects Serin generates.
const toolkitMarker = "toolkit.fluxcd.io"

// withoutToolkitKeys returns a copy of m without Flux ownership keys; nil
// when nothing is left.
func withoutToolkitKeys(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if strings.Contains(k, toolkitMarker) {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(m))
		}
		out[k] = v
	}
	return out
}

// includeByPrefix returns the entries of m whose key starts with one of the
// prefixes ("*" matches all, "" matches nothing), without Flux ownership keys;
// nil when nothing matches.
func includeByPrefix(m map[string]string, prefixes []string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if strings.Contains(k, toolkitMarker) || !hasIncludedPrefix(k, prefixes) {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(m))
		}
		out[k] = v
	}
	return out
}

func hasIncludedPrefix(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if p == "*" || (p != "" && strings.HasPrefix(key, p)) {
			return true
		}
	}
	return false
}

// primaryLabels returns labels without Flux keys and with the selector label
// set to the primary's value.
func primaryLabels(labels map[string]string, sel Selector) map[string]string {
	out := withoutToolkitKeys(labels)
	if out == nil {
		out = make(map[string]string, 1)
	}
	out[sel.Key] = sel.PrimaryValue()
	return out
}

// primaryPodAnnotations returns the target's pod annotations without Flux
// keys and with a new flagger-id.
func primaryPodAnnotations(annotations map[string]string, id string) map[string]string {
	out := withoutToolkitKeys(annotations)
	if out == nil {
		out = make(map[string]string, 1)
	}
	out[FlaggerIDAnnotation] = id
	return out
}
