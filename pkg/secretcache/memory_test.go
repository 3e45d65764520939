package secretcache

import (
	"fmt"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// BenchmarkCachedBytesPerSecret measures what an informer's store keeps per
// Secret of the cluster: the typed Secret informer the operator had (data
// included) against the metadata-only one it has now, plus the Secrets in
// use that the Cache holds (one in a hundred here; a target mounts a few of
// its namespace's). The Secrets look like a cluster's: a service account
// token, a TLS pair, an application's settings, 4 KiB of data on average.
//
//	go test -run '^$' -bench CachedBytesPerSecret ./pkg/secretcache
func BenchmarkCachedBytesPerSecret(b *testing.B) {
	const secrets = 5000
	data := map[string][]byte{"tls.crt": make([]byte, 2048), "tls.key": make([]byte, 1700), "ca.crt": make([]byte, 350)}
	meta := func(i int) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: fmt.Sprintf("secret-%d", i), Namespace: fmt.Sprintf("team-%d", i%200),
			ResourceVersion: "12345678", UID: "0b8e7f2c-58a0-4f0a-9d55-2a6c1c3b9e51",
			Labels: map[string]string{"app.kubernetes.io/name": "podinfo"}}
	}
	typed := func(i int) any {
		d := make(map[string][]byte, len(data))
		for k, v := range data {
			d[k] = append([]byte(nil), v...)
		}
		return &corev1.Secret{ObjectMeta: meta(i), Type: corev1.SecretTypeTLS, Data: d}
	}
	metadataOnly := func(i int) any {
		return &metav1.PartialObjectMetadata{ObjectMeta: meta(i)}
	}
	for _, tc := range []struct {
		name  string
		store func(i int) any
		held  func(i int) any // what the Cache holds besides, nil for none
	}{
		{"typed informer", typed, nil},
		{"metadata informer and the Secrets in use", metadataOnly, func(i int) any {
			if i%100 == 0 {
				return typed(i)
			}
			return nil
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var perSecret float64
			for range b.N {
				before := heapInUse()
				store := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
				var held []any
				for i := range secrets {
					if err := store.Add(tc.store(i)); err != nil {
						b.Fatal(err)
					}
					if tc.held != nil {
						if s := tc.held(i); s != nil {
							held = append(held, s)
						}
					}
				}
				perSecret = float64(heapInUse()-before) / secrets
				runtime.KeepAlive(store)
				runtime.KeepAlive(held)
			}
			b.ReportMetric(perSecret, "bytes/secret")
		})
	}
}

// heapInUse returns the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
