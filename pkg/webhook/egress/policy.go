package egress

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Flag is the operator flag that sets the policy; refusals name it so that
// whoever reads the event knows which setting to look at.
const Flag = "-webhook-allowed-hosts"

// Policy is a list of allowed destinations. The nil *Policy allows every
// destination.
type Policy struct {
	names   []nameRule
	nets    []netRule
	entries []string
	// lookup resolves names no name rule allows; net.DefaultResolver's
	// LookupNetIP unless a test replaces it.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// nameRule allows a host name (or, with suffix, every name under it) on a
// port, or on every port when port is 0.
type nameRule struct {
	name   string // lower case, no trailing dot; for a suffix rule, ".example.com"
	suffix bool
	port   int
}

// netRule allows the addresses of a prefix (a single address is a /32 or
// /128) on a port, or on every port when port is 0.
type netRule struct {
	prefix netip.Prefix
	port   int
}

// Parse returns the policy of a -webhook-allowed-hosts list; nil when the
// list has no entry, which allows everything. Entries are trimmed; empty
// ones are skipped.
func Parse(entries []string) (*Policy, error) {
	p := &Policy{lookup: defaultLookup}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if err := p.add(e); err != nil {
			return nil, fmt.Errorf("%s %q: %w", Flag, e, err)
		}
		p.entries = append(p.entries, e)
	}
	if len(p.entries) == 0 {
		return nil, nil
	}
	return p, nil
}

func (p *Policy) add(e string) error {
	if strings.Contains(e, "/") {
		prefix, err := netip.ParsePrefix(e)
		if err != nil {
			return fmt.Errorf("not a CIDR block (CIDR entries take no port): %w", err)
		}
		if prefix.Addr().Is4In6() && prefix.Bits() >= 96 {
			// Addresses are checked unmapped, so an IPv4-mapped block must be too.
			prefix = netip.PrefixFrom(prefix.Addr().Unmap(), prefix.Bits()-96)
		}
		p.nets = append(p.nets, netRule{prefix: prefix.Masked()})
		return nil
	}
	if ip, err := netip.ParseAddr(e); err == nil {
		p.nets = append(p.nets, netRule{prefix: netip.PrefixFrom(ip.Unmap().WithZone(""), ip.Unmap().BitLen())})
		return nil
	}
	host, port := e, 0
	if h, ps, err := net.SplitHostPort(e); err == nil {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not a TCP port", ps)
		}
		host, port = h, n
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap().WithZone("")
		p.nets = append(p.nets, netRule{prefix: netip.PrefixFrom(ip, ip.BitLen()), port: port})
		return nil
	}
	rule := nameRule{port: port}
	name, suffix := strings.CutPrefix(host, "*.")
	rule.suffix = suffix
	name = normalize(name)
	if err := validName(name); err != nil {
		return err
	}
	if suffix {
		name = "." + name
	}
	rule.name = name
	p.names = append(p.names, rule)
	return nil
}

// validName accepts DNS names: dot-separated labels of letters, digits, -
// and _ (Kubernetes Service names are DNS labels; _ appears in SRV-style
// names). A * anywhere else than a leading "*." is refused, and so is a
// bare "*": to allow everything, leave the flag unset.
func validName(name string) error {
	if name == "" {
		return fmt.Errorf("no host")
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return fmt.Errorf("empty label in %q", name)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("%q is not a host name, a *.suffix, an IP address or a CIDR block", name)
			}
		}
	}
	return nil
}

// normalize makes a name comparable: lower case, no trailing dot.
func normalize(name string) string {
	return strings.TrimSuffix(strings.ToLower(name), ".")
}

// String returns the entries, comma-separated, as the flag takes them.
func (p *Policy) String() string {
	if p == nil {
		return ""
	}
	return strings.Join(p.entries, ",")
}

// AllowsName reports whether a name entry allows host on port. It does
// not resolve host.
func (p *Policy) AllowsName(host string, port int) bool {
	if p == nil {
		return true
	}
	host = normalize(host)
	for _, r := range p.names {
		if r.port != 0 && r.port != port {
			continue
		}
		if r.suffix && strings.HasSuffix(host, r.name) || !r.suffix && host == r.name {
			return true
		}
	}
	return false
}

// AllowsIP reports whether an IP or CIDR entry allows ip on port. An
// IPv4-mapped IPv6 address is checked as the IPv4 address it is.
func (p *Policy) AllowsIP(ip netip.Addr, port int) bool {
	if p == nil {
		return true
	}
	ip = ip.Unmap().WithZone("")
	for _, r := range p.nets {
		if (r.port == 0 || r.port == port) && r.prefix.Contains(ip) {
			return true
		}
	}
	return false
}

// allowsLiteral reports whether host, as written (an IP literal or a name,
// unresolved), is allowed on port.
func (p *Policy) allowsLiteral(host string, port int) bool {
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.AllowsIP(ip, port)
	}
	return p.AllowsName(host, port)
}

// DeniedError is a call refused by the policy.
type DeniedError struct {
	// Destination is the host:port refused.
	Destination string
	// Detail says why, when there is more to say than "not listed".
	Detail string
}

// Error names the destination and the flag.
func (e *DeniedError) Error() string {
	msg := fmt.Sprintf("destination %s is not allowed by %s", e.Destination, Flag)
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}
