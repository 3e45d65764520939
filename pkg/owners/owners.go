package owners

import (
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Canary returns the controller reference to cd, which blocks the owner's
// deletion as a controller reference does.
func Canary(cd *flaggerv1.Canary) metav1.OwnerReference {
	return *metav1.NewControllerRef(cd, flaggerv1.SchemeGroupVersion.WithKind("Canary"))
}

// Target returns the plain owner reference to a canary's target Deployment
// that every object created for the canary carries besides its controller
// reference to the canary.
//
// It does not block the owner's deletion: a foreground deletion of the
// target does not wait for the primary, and setting it needs no permission
// on the target's finalizers (the OwnerReferencesPermissionEnforcement
// admission plugin asks for one only with blockOwnerDeletion).
//
// Unlike Flagger, whose objects have the Canary as their only owner, so that
// deleting a Canary without revertOnDeletion garbage-collects the primary
// while the target is scaled to zero: an outage (#853, #388).
func Target(name string, uid types.UID) metav1.OwnerReference {
	return TargetKind("Deployment", name, uid)
}

// TargetKind is Target for a target of kind, an apps/v1 kind (Deployment
// or DaemonSet; empty means Deployment, as in spec.targetRef.kind). The
// garbage collector looks the owner up by its kind: a reference of the
// wrong kind names an owner that does not exist.
func TargetKind(kind, name string, uid types.UID) metav1.OwnerReference {
	if kind == "" {
		kind = "Deployment"
	}
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid}
}

// Of returns the owner references of an object created for cd: the
// controller reference to cd, then target (see Target).
func Of(cd *flaggerv1.Canary, target metav1.OwnerReference) []metav1.OwnerReference {
	return []metav1.OwnerReference{Canary(cd), target}
}

// IsTarget reports whether ref refers to the Deployment name, whatever its
// UID and API version.
func IsTarget(ref metav1.OwnerReference, name string) bool {
	return Same(ref, Target(name, ""))
}

// isTargetKind is IsTarget for a target of kind (see TargetKind).
func isTargetKind(ref metav1.OwnerReference, kind, name string) bool {
	return Same(ref, TargetKind(kind, name, ""))
}

// Same reports whether a and b refer to objects of the same group, kind and
// name, whatever their UIDs and API versions: an owner deleted and
// re-created under its name is the same owner for Serin.
func Same(a, b metav1.OwnerReference) bool {
	return groupOf(a) == groupOf(b) && a.Kind == b.Kind && a.Name == b.Name
}

func groupOf(ref metav1.OwnerReference) string {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return ref.APIVersion
	}
	return gv.Group
}

// Rewrite computes new owner references from an object's current ones. It
// returns its input unchanged when there is nothing to change, and never
// modifies it.
type Rewrite func([]metav1.OwnerReference) []metav1.OwnerReference

// Changes reports whether rw changes refs, and returns the result.
func (rw Rewrite) Changes(refs []metav1.OwnerReference) ([]metav1.OwnerReference, bool) {
	out := rw(refs)
	return out, !equality.Semantic.DeepEqual(refs, out)
}

// AddTarget adds target to the references. A reference to the same
// Deployment with another UID (a target deleted and re-created under the
// same name) is replaced in place; references that hold target already are
// left as they are, so that the caller writes nothing.
func AddTarget(target metav1.OwnerReference) Rewrite {
	return func(refs []metav1.OwnerReference) []metav1.OwnerReference {
		i := slices.IndexFunc(refs, func(r metav1.OwnerReference) bool { return Same(r, target) })
		if i >= 0 && refs[i].UID == target.UID {
			return refs
		}
		out := slices.Clone(refs)
		if i >= 0 {
			out[i] = target
			return out
		}
		return append(out, target)
	}
}

// RemoveTarget removes the references to the Deployment name: what
// revertOnDeletion does before the Canary goes, so that garbage collection
// removes its objects with it.
func RemoveTarget(name string) Rewrite {
	return RemoveTargetKind("Deployment", name)
}

// RemoveTargetKind is RemoveTarget for a target of kind (see TargetKind).
func RemoveTargetKind(kind, name string) Rewrite {
	return func(refs []metav1.OwnerReference) []metav1.OwnerReference {
		isTarget := func(r metav1.OwnerReference) bool { return isTargetKind(r, kind, name) }
		if !slices.ContainsFunc(refs, isTarget) {
			return refs
		}
		out := slices.DeleteFunc(slices.Clone(refs), isTarget)
		if len(out) == 0 {
			return nil
		}
		return out
	}
}

// HandOver replaces the reference to the canary canaryUID with target,
// first: the hand-over of a canary deleted while it still carried the
// finalizer that an older Serin put on every canary.
func HandOver(canaryUID types.UID, target metav1.OwnerReference) Rewrite {
	return func(refs []metav1.OwnerReference) []metav1.OwnerReference {
		out := []metav1.OwnerReference{target}
		for _, r := range refs {
			if r.UID != canaryUID && !Same(r, target) {
				out = append(out, r)
			}
		}
		return out
	}
}
