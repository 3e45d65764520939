package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"
)

// dialFunc is the signature of http.Transport's DialContext.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func defaultLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// Transport returns a clone of t whose connections and proxied requests
// the policy bounds; the nil policy returns t itself. Set a request's proxy
// on t before calling it: a Proxy set on the result afterwards is not
// checked (its connections still are).
func (p *Policy) Transport(t *http.Transport) *http.Transport {
	if p == nil {
		return t
	}
	t = t.Clone()
	dial := t.DialContext
	if dial == nil {
		// http.DefaultTransport's dialer.
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	t.DialContext = p.guardDial(dial)
	if t.DialTLSContext != nil {
		t.DialTLSContext = p.guardDial(t.DialTLSContext)
	}
	if proxy := t.Proxy; proxy != nil {
		t.Proxy = func(req *http.Request) (*url.URL, error) {
			u, err := proxy(req)
			if err != nil || u == nil {
				return u, err
			}
			if err := p.checkProxied(req.URL); err != nil {
				return nil, err
			}
			return u, nil
		}
	}
	return t
}

// checkProxied checks the destination of a request sent through a proxy:
// the proxy resolves the name, so only the URL as written can be checked.
func (p *Policy) checkProxied(u *url.URL) error {
	host, port := u.Hostname(), urlPort(u)
	if p.allowsLiteral(host, port) {
		return nil
	}
	return &DeniedError{
		Destination: net.JoinHostPort(host, strconv.Itoa(port)),
		Detail:      "through a proxy, a name must be listed by name",
	}
}

func urlPort(u *url.URL) int {
	if n, err := strconv.Atoi(u.Port()); err == nil {
		return n
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

// guardDial wraps a dialer so that it connects only where the policy
// allows; see the package documentation for names and DNS.
func (p *Policy) guardDial(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, portText, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		port, _ := strconv.Atoi(portText)
		if ip, err := netip.ParseAddr(host); err == nil {
			if !p.AllowsIP(ip, port) {
				return nil, &DeniedError{Destination: addr}
			}
			return dial(ctx, network, addr)
		}
		if p.AllowsName(host, port) {
			return dial(ctx, network, addr)
		}
		if len(p.nets) == 0 {
			return nil, &DeniedError{Destination: addr}
		}
		ips, err := p.lookup(ctx, host)
		if err != nil {
			return nil, err
		}
		var errs []error
		for _, ip := range ips {
			if !p.AllowsIP(ip, port) {
				continue
			}
			// The address checked is the address dialled.
			conn, err := dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), portText))
			if err == nil {
				return conn, nil
			}
			errs = append(errs, err)
		}
		if len(errs) == 0 {
			return nil, &DeniedError{Destination: addr, Detail: fmt.Sprintf("it resolves to %v", ips)}
		}
		return nil, errors.Join(errs...)
	}
}

// ListsURL reports whether the destination of an absolute URL is allowed
// as written, without resolving it: false for a name only a resolution
// could allow. The operator warns at start about its own URLs (-slack-url,
// -event-webhook, ...) that the policy does not list.
func (p *Policy) ListsURL(raw string) bool {
	if p == nil {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	return p.checkProxied(u) == nil
}
