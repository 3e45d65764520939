package servicenet

import (
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"strconv"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// servicePort identifies what a listener serves.
type servicePort struct {
	namespace, name, portName string
}

// listener accepts connections on one ClusterIP:port.
type listener struct {
	ln     net.Listener
	target atomic.Pointer[servicePort]
	next   atomic.Uint64 // round-robin position
}

// reconcileLoop keeps one listener per ClusterIP:port of every Service until ctx ends.
func (n *Network) reconcileLoop(ctx context.Context) {
	n.reconcile()
	for {
		select {
		case <-ctx.Done():
			for key, l := range n.listeners {
				l.ln.Close()
				delete(n.listeners, key)
			}
			return
		case <-n.resync:
			n.reconcile()
		}
	}
}

// reconcile opens the listeners Services need and closes those no Service needs.
func (n *Network) reconcile() {
	services, err := n.services.List(labels.Everything())
	if err != nil {
		n.logf("servicenet: listing Services: %v", err)
		return
	}
	want := map[string]servicePort{}
	for _, svc := range services {
		if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if p.Protocol != corev1.ProtocolTCP && p.Protocol != "" {
				continue
			}
			key := net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(p.Port)))
			want[key] = servicePort{namespace: svc.Namespace, name: svc.Name, portName: p.Name}
		}
	}
	for key, l := range n.listeners {
		if _, ok := want[key]; !ok {
			l.ln.Close()
			delete(n.listeners, key)
		}
	}
	for key, target := range want {
		if l, ok := n.listeners[key]; ok {
			l.target.Store(&target)
			continue
		}
		l, err := n.listen(key)
		if err != nil {
			n.logf("servicenet: cannot proxy %s/%s on %s: %v", target.namespace, target.name, key, err)
			continue
		}
		l.target.Store(&target)
		n.listeners[key] = l
		go n.serve(l)
	}
}

// listen opens a listener on a ClusterIP, adding the address to the loopback device first.
func (n *Network) listen(hostPort string) (*listener, error) {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, err
	}
	if !n.addresses[host] {
		if out, err := exec.Command("ip", "addr", "replace", host+"/32", "dev", "lo").CombinedOutput(); err != nil {
			return nil, errors.New(string(out))
		}
		n.addresses[host] = true
	}
	ln, err := net.Listen("tcp4", hostPort)
	if err != nil {
		return nil, err
	}
	return &listener{ln: ln}, nil
}

// serve accepts connections until the listener is closed.
func (n *Network) serve(l *listener) {
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			return
		}
		go n.forward(l, conn)
	}
}

// forward connects conn to the next ready endpoint; with none, the connection is refused by
// closing it, as kube-proxy rejects traffic to a Service without endpoints.
func (n *Network) forward(l *listener, conn net.Conn) {
	defer conn.Close()
	t := l.target.Load()
	svc, err := n.services.Services(t.namespace).Get(t.name)
	if err != nil {
		return
	}
	eps := n.readyEndpoints(svc, t.portName)
	if len(eps) == 0 {
		return
	}
	ep := eps[int(l.next.Add(1)%uint64(len(eps)))]
	backend, err := net.DialTimeout("tcp4", net.JoinHostPort(ep.ip, strconv.Itoa(int(ep.port))), dialTimeout)
	if err != nil {
		return
	}
	defer backend.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(backend, conn)
		closeWrite(backend)
		close(done)
	}()
	_, _ = io.Copy(conn, backend)
	closeWrite(conn)
	<-done
}

// closeWrite half-closes a TCP connection so that the other side sees the end of the stream.
func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
