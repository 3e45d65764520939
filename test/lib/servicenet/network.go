package servicenet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

// Config configures Start.
type Config struct {
	// Client reads Services and EndpointSlices.
	Client kubernetes.Interface
	// DNSAddr is the UDP address the DNS server listens on, e.g. 10.250.0.1:53.
	DNSAddr string
	// Logf receives one line per notable event; nil discards them.
	Logf func(format string, args ...any)
}

// Network serves DNS and proxies ClusterIPs until Stop.
type Network struct {
	services  corelisters.ServiceLister
	slices    discoverylisters.EndpointSliceLister
	dns       net.PacketConn
	logf      func(format string, args ...any)
	resync    chan struct{}
	cancel    context.CancelFunc
	done      sync.WaitGroup
	listeners map[string]*listener // by ClusterIP:port; owned by the reconcile goroutine
	addresses map[string]bool      // ClusterIPs on the loopback device
}

// Start starts the informers, the DNS server and the proxy, and returns once the informers have
// synced and the DNS server listens.
func Start(ctx context.Context, cfg Config) (*Network, error) {
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	factory := informers.NewSharedInformerFactory(cfg.Client, 0)
	n := &Network{
		services:  factory.Core().V1().Services().Lister(),
		slices:    factory.Discovery().V1().EndpointSlices().Lister(),
		logf:      logf,
		resync:    make(chan struct{}, 1),
		listeners: map[string]*listener{},
		addresses: map[string]bool{},
	}
	poke := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { n.poke() },
		UpdateFunc: func(any, any) { n.poke() },
		DeleteFunc: func(any) { n.poke() },
	}
	if _, err := factory.Core().V1().Services().Informer().AddEventHandler(poke); err != nil {
		return nil, err
	}
	factory.Discovery().V1().EndpointSlices().Informer()
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	factory.Start(runCtx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			cancel()
			return nil, fmt.Errorf("servicenet: %v informer did not sync", typ)
		}
	}
	dns, err := net.ListenPacket("udp4", cfg.DNSAddr)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("servicenet: DNS: %w", err)
	}
	n.dns = dns
	n.done.Add(2)
	go func() { defer n.done.Done(); n.serveDNS() }()
	go func() { defer n.done.Done(); n.reconcileLoop(runCtx) }()
	go func() { <-runCtx.Done(); factory.Shutdown() }()
	return n, nil
}

// Stop closes the DNS server and every proxy listener and waits for them.
func (n *Network) Stop() {
	n.cancel()
	n.dns.Close()
	n.done.Wait()
}

func (n *Network) poke() {
	select {
	case n.resync <- struct{}{}:
	default:
	}
}

// serveDNS answers queries until the socket is closed.
func (n *Network) serveDNS() {
	buf := make([]byte, 4096)
	for {
		size, from, err := n.dns.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				n.logf("servicenet: DNS: %v", err)
			}
			return
		}
		if resp := n.resolve(buf[:size]); resp != nil {
			_, _ = n.dns.WriteTo(resp, from)
		}
	}
}

// resolve answers one query; nil drops it.
func (n *Network) resolve(msg []byte) []byte {
	q, err := parseQuery(msg)
	if err != nil {
		return nil
	}
	svcName, ns, ok := serviceName(q.name)
	if !ok {
		return answer(msg, q, rcodeName, nil)
	}
	svc, err := n.services.Services(ns).Get(svcName)
	if err != nil {
		return answer(msg, q, rcodeName, nil)
	}
	if q.qtype != typeA {
		return answer(msg, q, rcodeOK, nil) // the name exists, with IPv4 addresses only
	}
	var addrs []net.IP
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		for _, ep := range n.readyEndpoints(svc, "") {
			addrs = append(addrs, net.ParseIP(ep.ip))
		}
	} else if ip := net.ParseIP(svc.Spec.ClusterIP).To4(); ip != nil {
		addrs = append(addrs, ip)
	}
	if len(addrs) == 0 {
		return answer(msg, q, rcodeFail, nil)
	}
	return answer(msg, q, rcodeOK, addrs)
}

// endpoint is one ready backend address of a Service port.
type endpoint struct {
	ip   string
	port int32
}

// readyEndpoints lists the ready endpoints of svc for the Service port named portName.
func (n *Network) readyEndpoints(svc *corev1.Service, portName string) []endpoint {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name})
	list, err := n.slices.EndpointSlices(svc.Namespace).List(sel)
	if err != nil {
		return nil
	}
	var eps []endpoint
	for _, s := range list {
		if s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		port, ok := slicePort(s, portName)
		if !ok {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				eps = append(eps, endpoint{ip: a, port: port})
			}
		}
	}
	// Listers return objects in map order; a stable order keeps the round-robin even.
	slices.SortFunc(eps, func(a, b endpoint) int { return strings.Compare(a.ip, b.ip) })
	return eps
}

// slicePort finds the port of a slice that serves the Service port named name.
func slicePort(s *discoveryv1.EndpointSlice, name string) (int32, bool) {
	for _, p := range s.Ports {
		pn := ""
		if p.Name != nil {
			pn = *p.Name
		}
		if pn == name && p.Port != nil {
			return *p.Port, true
		}
	}
	return 0, false
}

// dialTimeout bounds a connection to an endpoint.
const dialTimeout = 3 * time.Second
