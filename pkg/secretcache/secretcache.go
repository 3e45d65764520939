// Package secretcache reads Secrets without keeping every Secret of the
// cluster in memory.
//
// The operator needs a Secret's data only for the few Secrets that targets
// mount (to checksum and copy them for config tracking) and that
// MetricTemplates name (for credentials), but a typed informer holds every
// Secret of every namespace, data included. Here the informer holds only
// metadata, which tells whether a Secret exists and whether it changed
// (its resourceVersion), and a Secret's data is read with a GET the first
// time it is asked for and again only after it changed. What is held is the
// Secrets asked for, as last read; a deleted or changed Secret is dropped.
//
// Unlike Flagger, which keeps every Secret in its informer cache. An idle
// fleet still costs no request: a Secret is read again only when it changed.
package secretcache

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// readTimeout bounds one read of a Secret.
const readTimeout = 10 * time.Second

// Cache returns Secrets by namespace and name, with their data. It is safe
// for concurrent use.
type Cache struct {
	client kubernetes.Interface
	// metadata is the metadata-only informer's indexer of Secrets.
	metadata cache.Indexer

	mu   sync.Mutex
	held map[cache.ObjectName]*corev1.Secret
}

// New returns a Cache that reads Secrets with client and learns of their
// existence and changes from informer, a metadata-only informer of Secrets
// (k8s.io/client-go/metadata/metadatainformer). Its events drop what the
// Cache holds of a Secret that changed or was deleted.
func New(client kubernetes.Interface, informer cache.SharedIndexInformer) (*Cache, error) {
	c := &Cache{client: client, metadata: informer.GetIndexer(), held: map[cache.ObjectName]*corev1.Secret{}}
	_, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { c.drop(obj) },
		DeleteFunc: c.drop,
	})
	if err != nil {
		return nil, fmt.Errorf("add secret metadata handler: %w", err)
	}
	return c, nil
}

// Get returns the Secret namespace/name as it is now, or a NotFound error
// when the metadata informer does not know it. The returned Secret is
// shared: callers must not change it.
func (c *Cache) Get(namespace, name string) (*corev1.Secret, error) {
	key := cache.ObjectName{Namespace: namespace, Name: name}
	obj, exists, err := c.metadata.GetByKey(key.String())
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	s := c.held[key]
	c.mu.Unlock()
	if s != nil && s.ResourceVersion == m.GetResourceVersion() {
		return s, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	s, err = c.client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	s.ManagedFields = nil
	c.mu.Lock()
	c.held[key] = s
	c.mu.Unlock()
	return s, nil
}

// ControlledBy returns the Secrets of namespace whose controller is the
// object with uid (the -primary copies of a canary), read as Get does: the
// metadata says which, and only those are read.
func (c *Cache) ControlledBy(namespace string, uid types.UID) ([]*corev1.Secret, error) {
	objs, err := c.metadata.ByIndex(cache.NamespaceIndex, namespace)
	if err != nil {
		return nil, err
	}
	var out []*corev1.Secret
	for _, obj := range objs {
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, err
		}
		if ref := metav1.GetControllerOfNoCopy(m); ref == nil || ref.UID != uid {
			continue
		}
		s, err := c.Get(namespace, m.GetName())
		if apierrors.IsNotFound(err) {
			continue // deleted since the informer saw it
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// drop forgets what is held of the Secret of an informer event.
func (c *Cache) drop(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	key, err := cache.ObjectToName(obj)
	if err != nil {
		return
	}
	c.mu.Lock()
	delete(c.held, key)
	c.mu.Unlock()
}

// Held returns how many Secrets the Cache holds with their data.
func (c *Cache) Held() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.held)
}
