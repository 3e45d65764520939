package metrics

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	"k8s.io/client-go/rest"
)

// DefaultCacheSize is the number of providers a ProviderCache keeps.
const DefaultCacheSize = 64

// ProviderCache builds one provider per configuration and reuses it, so that
// connections to a metrics server are pooled across analysis steps (unlike
// Flagger, which builds a new client on every evaluation). It keeps the most
// recently used providers; a rotated secret or an edited template makes a new
// configuration and the old provider ages out. It is safe for concurrent use.
type ProviderCache struct {
	mu      sync.Mutex
	size    int
	clock   uint64
	entries map[[sha256.Size]byte]*cacheEntry
	build   func(ProviderConfig) (Provider, error)
	cluster *rest.Config
}

type cacheEntry struct {
	provider Provider
	lastUsed uint64
}

// NewProviderCache returns a cache of at most size providers built with
// NewProvider; size <= 0 means DefaultCacheSize.
func NewProviderCache(size int) *ProviderCache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &ProviderCache{size: size, entries: map[[sha256.Size]byte]*cacheEntry{}, build: NewProvider}
}

// WithCluster gives the providers that read Kubernetes APIs (keptn,
// externalmetrics) the operator's API server, and returns the cache.
func (c *ProviderCache) WithCluster(cluster *rest.Config) *ProviderCache {
	c.cluster = cluster
	return c
}

// Provider returns the cached provider for cfg, building it on first use.
// Build errors are returned and not cached.
func (c *ProviderCache) Provider(cfg ProviderConfig) (Provider, error) {
	key, err := cacheKey(cfg)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock++
	if e, ok := c.entries[key]; ok {
		e.lastUsed = c.clock
		return e.provider, nil
	}
	cfg.Cluster = c.cluster
	p, err := c.build(cfg)
	if err != nil {
		return nil, err
	}
	if len(c.entries) >= c.size {
		c.evictOldest()
	}
	c.entries[key] = &cacheEntry{provider: p, lastUsed: c.clock}
	return p, nil
}

// Len returns the number of cached providers.
func (c *ProviderCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *ProviderCache) evictOldest() {
	var oldest [sha256.Size]byte
	var found *cacheEntry
	for k, e := range c.entries {
		if found == nil || e.lastUsed < found.lastUsed {
			oldest, found = k, e
		}
	}
	if found == nil {
		return
	}
	delete(c.entries, oldest)
	if closer, ok := found.provider.(interface{ closeIdleConnections() }); ok {
		closer.closeIdleConnections()
	}
}

// cacheKey hashes the whole configuration, so the cache holds no secret in
// clear and any change (address, header, credential) makes a new key.
// encoding/json sorts map keys, which makes the encoding deterministic.
func cacheKey(cfg ProviderConfig) ([sha256.Size]byte, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(b), nil
}
