// Package servicenet is the Service networking of the real-traffic test world, in place of
// kube-proxy and CoreDNS: a DNS server that answers <service>.<namespace>[.svc[.cluster.local]]
// with the Service's ClusterIP (or, for a headless Service, its ready endpoints), and a TCP
// proxy that listens on every ClusterIP:port and forwards each connection to a ready endpoint
// of the Service, round-robin, the way kube-proxy's userspace mode did. Both read Services and
// EndpointSlices through informers. It must run inside a sandbox world: it adds the ClusterIPs
// to the world's loopback device.
package servicenet
