package metrics

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingProvider is a Provider that remembers the configuration it was
// built from.
type countingProvider struct {
	cfg    ProviderConfig
	closed bool
}

func (p *countingProvider) RunQuery(context.Context, string, time.Time) (float64, error) {
	return 0, nil
}
func (p *countingProvider) IsOnline(context.Context) (bool, error) { return true, nil }
func (p *countingProvider) closeIdleConnections()                  { p.closed = true }

func newCountingCache(size int) (*ProviderCache, *int) {
	builds := 0
	c := NewProviderCache(size)
	c.build = func(cfg ProviderConfig) (Provider, error) {
		if cfg.Address == "" {
			return nil, errors.New("no address")
		}
		builds++
		return &countingProvider{cfg: cfg}, nil
	}
	return c, &builds
}

func TestProviderCacheReuses(t *testing.T) {
	c, builds := newCountingCache(0)
	cfg := func() ProviderConfig {
		return ProviderConfig{
			Type: TypePrometheus, Address: "http://prom:9090",
			Headers:     http.Header{"X-Scope-Orgid": {"a"}},
			Credentials: map[string][]byte{"token": []byte("t")},
		}
	}
	p1, err := c.Provider(cfg())
	require.NoError(t, err)
	p2, err := c.Provider(cfg()) // equal, not the same maps
	require.NoError(t, err)
	assert.Same(t, p1, p2)
	assert.Equal(t, 1, *builds)

	changes := map[string]func(*ProviderConfig){
		"address":  func(c *ProviderConfig) { c.Address = "http://other:9090" },
		"header":   func(c *ProviderConfig) { c.Headers = http.Header{"X-Scope-Orgid": {"b"}} },
		"token":    func(c *ProviderConfig) { c.Credentials = map[string][]byte{"token": []byte("rotated")} },
		"no auth":  func(c *ProviderConfig) { c.Credentials = nil },
		"insecure": func(c *ProviderConfig) { c.InsecureSkipVerify = true },
		"interval": func(c *ProviderConfig) { c.Interval = "5m" },
	}
	for name, change := range changes {
		cf := cfg()
		change(&cf)
		p, err := c.Provider(cf)
		require.NoError(t, err)
		assert.NotSame(t, p1, p, name)
	}
	assert.Equal(t, 1+len(changes), *builds)
	assert.Equal(t, 1+len(changes), c.Len())
}

func TestProviderCacheDoesNotCacheErrors(t *testing.T) {
	c, builds := newCountingCache(0)
	_, err := c.Provider(ProviderConfig{Type: TypePrometheus})
	require.Error(t, err)
	assert.Zero(t, c.Len())
	assert.Zero(t, *builds)
}

func TestProviderCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c, _ := newCountingCache(2)
	get := func(addr string) *countingProvider {
		p, err := c.Provider(ProviderConfig{Type: TypePrometheus, Address: addr})
		require.NoError(t, err)
		return p.(*countingProvider)
	}
	a, b := get("http://a"), get("http://b")
	get("http://a") // a is now more recent than b
	get("http://c")

	assert.Equal(t, 2, c.Len())
	assert.True(t, b.closed, "the least recently used provider is evicted and closed")
	assert.False(t, a.closed)
	assert.Same(t, a, get("http://a"))
}

func TestProviderCacheBuildsRealProviders(t *testing.T) {
	c := NewProviderCache(0)
	_, err := c.Provider(ProviderConfig{Type: "graphana"})
	require.ErrorIs(t, err, ErrUnsupportedProvider)

	p, err := c.Provider(ProviderConfig{Type: TypePrometheus, Address: "http://prom:9090"})
	require.NoError(t, err)
	assert.IsType(t, &prometheus{}, p)
}
