package kubelet

import (
	"fmt"
	"net/netip"
)

// ipam hands out the addresses of one node's pod CIDR. It never gives out an address that is
// still held, so a new Pod never shares an IP with a Pod whose process is still stopping.
type ipam struct {
	prefix netip.Prefix
	held   map[netip.Addr]string // address -> owner
}

func newIPAM(cidr string) (*ipam, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, err
	}
	if !p.Addr().Is4() || p.Bits() > 30 {
		return nil, fmt.Errorf("pod CIDR %s: need an IPv4 range of at least 4 addresses", cidr)
	}
	return &ipam{prefix: p.Masked(), held: map[netip.Addr]string{}}, nil
}

// allocate returns owner's address, choosing the lowest free one (after the network address
// and the first host address, which kubenet-style setups give to the node) on first use.
func (a *ipam) allocate(owner string) (string, error) {
	for ip, o := range a.held {
		if o == owner {
			return ip.String(), nil
		}
	}
	ip := a.prefix.Addr().Next().Next()
	for ; a.prefix.Contains(ip); ip = ip.Next() {
		if _, taken := a.held[ip]; !taken && a.prefix.Contains(ip.Next()) { // not broadcast
			a.held[ip] = owner
			return ip.String(), nil
		}
	}
	return "", fmt.Errorf("pod CIDR %s is full", a.prefix)
}

// release frees owner's address, if it has one.
func (a *ipam) release(owner string) {
	for ip, o := range a.held {
		if o == owner {
			delete(a.held, ip)
		}
	}
}
