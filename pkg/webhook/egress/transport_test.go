package egress

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// server is an httptest server on 127.0.0.1 that counts its requests.
type server struct {
	*httptest.Server
	hits atomic.Int32
	port string
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(s.Close)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	s.port = u.Port()
	return s
}

// guarded returns a client through the policy of entries, the addresses it
// dialled, and the policy, whose lookup tests may replace.
func guarded(t *testing.T, entries ...string) (*http.Client, *[]string, *Policy) {
	t.Helper()
	p, err := Parse(entries)
	require.NoError(t, err)
	var (
		mu     sync.Mutex
		dialed []string
	)
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = nil
	d := &net.Dialer{}
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: p.Transport(base)}, &dialed, p
}

func post(c *http.Client, url string) error {
	resp, err := c.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func TestTransportRefusesUnlistedDestinations(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		name    string
		entries []string
		allowed bool
	}{
		{"not listed", []string{"hooks.slack.com"}, false},
		{"address", []string{"127.0.0.1"}, true},
		{"address and port", []string{"127.0.0.1:" + s.port}, true},
		{"address, another port", []string{"127.0.0.1:1"}, false},
		{"CIDR", []string{"127.0.0.0/8"}, true},
		{"another CIDR", []string{"10.0.0.0/8", "fd00::/8"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, dialed, _ := guarded(t, tt.entries...)
			before := s.hits.Load()
			err := post(c, s.URL)
			if tt.allowed {
				require.NoError(t, err)
				assert.Equal(t, before+1, s.hits.Load())
				return
			}
			var denied *DeniedError
			require.ErrorAs(t, err, &denied)
			assert.Equal(t, "127.0.0.1:"+s.port, denied.Destination)
			assert.Equal(t, before, s.hits.Load(), "nothing reached the server")
			assert.Empty(t, *dialed)
		})
	}
}

func TestTransportNamesAndDNS(t *testing.T) {
	s := newServer(t, nil)
	hook := "http://webhook.internal:" + s.port + "/"
	resolvesTo := func(p *Policy, addrs ...string) {
		p.lookup = func(_ context.Context, host string) ([]netip.Addr, error) {
			if host != "webhook.internal" {
				return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			var out []netip.Addr
			for _, a := range addrs {
				out = append(out, netip.MustParseAddr(a))
			}
			return out, nil
		}
	}

	t.Run("a listed name is trusted as listed", func(t *testing.T) {
		c, dialed, _ := guarded(t, "localhost")
		require.NoError(t, post(c, "http://localhost:"+s.port+"/"))
		assert.Equal(t, []string{"localhost:" + s.port}, *dialed)
	})
	t.Run("an unlisted name is allowed at an allowed address, which is the one dialled", func(t *testing.T) {
		c, dialed, p := guarded(t, "127.0.0.0/8")
		resolvesTo(p, "10.0.0.1", "127.0.0.1")
		require.NoError(t, post(c, hook))
		assert.Equal(t, []string{"127.0.0.1:" + s.port}, *dialed)
	})
	t.Run("an unlisted name resolving elsewhere is refused", func(t *testing.T) {
		c, dialed, p := guarded(t, "10.0.0.0/8")
		resolvesTo(p, "127.0.0.1")
		err := post(c, hook)
		var denied *DeniedError
		require.ErrorAs(t, err, &denied)
		assert.Equal(t, "webhook.internal:"+s.port, denied.Destination)
		assert.Contains(t, err.Error(), "it resolves to [127.0.0.1]")
		assert.Empty(t, *dialed)
	})
	t.Run("without IP entries an unlisted name is not even resolved", func(t *testing.T) {
		c, _, p := guarded(t, "hooks.slack.com")
		p.lookup = func(context.Context, string) ([]netip.Addr, error) {
			t.Error("resolved")
			return nil, nil
		}
		var denied *DeniedError
		require.ErrorAs(t, post(c, hook), &denied)
	})
}

func TestTransportChecksRedirects(t *testing.T) {
	inside := newServer(t, nil)
	outside := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL, http.StatusTemporaryRedirect)
	})
	c, _, _ := guarded(t, "127.0.0.1:"+outside.port)
	err := post(c, outside.URL)
	var denied *DeniedError
	require.ErrorAs(t, err, &denied)
	assert.Equal(t, "127.0.0.1:"+inside.port, denied.Destination)
	assert.Equal(t, int32(1), outside.hits.Load())
	assert.Zero(t, inside.hits.Load())
}

func TestTransportThroughAProxy(t *testing.T) {
	// A forward proxy receives the absolute URL; this one answers itself.
	var (
		mu    sync.Mutex
		asked []string
	)
	proxy := newServer(t, func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, r.URL.String())
	})
	proxyURL, err := url.Parse(proxy.URL)
	require.NoError(t, err)
	client := func(entries ...string) *http.Client {
		p, err := Parse(entries)
		require.NoError(t, err)
		base := http.DefaultTransport.(*http.Transport).Clone()
		base.Proxy = http.ProxyURL(proxyURL)
		return &http.Client{Transport: p.Transport(base)}
	}

	require.NoError(t, post(client("127.0.0.1:"+proxy.port, "hooks.slack.com"), "http://hooks.slack.com/services/x"))
	mu.Lock()
	assert.Equal(t, []string{"http://hooks.slack.com/services/x"}, asked)
	mu.Unlock()

	err = post(client("127.0.0.1:"+proxy.port, "10.0.0.0/8"), "http://internal.example/")
	var denied *DeniedError
	require.ErrorAs(t, err, &denied)
	assert.Equal(t, "through a proxy, a name must be listed by name", denied.Detail)

	err = post(client("hooks.slack.com"), "http://hooks.slack.com/services/x")
	require.ErrorAs(t, err, &denied, "the proxy's own address must be allowed")
	assert.Equal(t, "127.0.0.1:"+proxy.port, denied.Destination)
	assert.Equal(t, int32(1), proxy.hits.Load())
}

func TestNilPolicyKeepsTheTransport(t *testing.T) {
	base := &http.Transport{}
	var p *Policy
	assert.Same(t, base, p.Transport(base))
}

func TestListsURL(t *testing.T) {
	p, err := Parse([]string{"hooks.slack.com", "10.0.0.0/8", "events.example.com:8443"})
	require.NoError(t, err)
	assert.True(t, p.ListsURL("https://hooks.slack.com/services/x"))
	assert.True(t, p.ListsURL("http://10.1.2.3:8080/"))
	assert.True(t, p.ListsURL("https://events.example.com:8443/"))
	assert.False(t, p.ListsURL("https://events.example.com/"), "port 443")
	assert.False(t, p.ListsURL("http://alertmanager.monitoring:9093/"), "only a resolution could allow it")
	assert.False(t, p.ListsURL("not a url"))
	var none *Policy
	assert.True(t, none.ListsURL("http://169.254.169.254/"))
}
