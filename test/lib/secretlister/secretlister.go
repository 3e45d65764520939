// Package secretlister lets unit tests read Secrets from a typed lister
// where the operator reads them through pkg/secretcache, whose metadata
// watch the fake clients do not serve.
package secretlister

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// Lister reads Secrets from a typed lister, with the methods of
// canary.SecretGetter and notifier.SecretGetter.
type Lister struct{ corelisters.SecretLister }

// Get returns the Secret namespace/name.
func (l Lister) Get(namespace, name string) (*corev1.Secret, error) {
	return l.Secrets(namespace).Get(name)
}

// ControlledBy returns the Secrets of namespace that the object with uid
// controls.
func (l Lister) ControlledBy(namespace string, uid types.UID) ([]*corev1.Secret, error) {
	all, err := l.Secrets(namespace).List(labels.Everything())
	var out []*corev1.Secret
	for _, s := range all {
		if ref := metav1.GetControllerOf(s); ref != nil && ref.UID == uid {
			out = append(out, s)
		}
	}
	return out, err
}
