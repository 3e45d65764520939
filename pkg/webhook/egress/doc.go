// Package egress bounds where the operator's outgoing HTTP calls may go: the
// webhooks and event webhooks of Canaries, the global -event-webhook, and
// the alerts to AlertProviders and the global Slack and Teams URLs. Anyone
// who may write a Canary or an AlertProvider chooses those URLs, so without
// a bound they can make the operator POST, from inside the cluster, to
// addresses they could not reach themselves. The bound is the operator's
// -webhook-allowed-hosts flag; without it every destination is allowed, as
// in Flagger.
//
// # Syntax
//
// The flag takes a comma-separated list (and may be repeated). Each entry is
// one of:
//
//	hooks.slack.com            a host name, any port
//	flagger-loadtester.test:80 a host name and one port
//	*.svc.cluster.local        every name ending in .svc.cluster.local (not the bare suffix)
//	*.example.com:443          the same, one port
//	10.0.0.7, 10.0.0.7:8080    an IP address, any port or one port ([::1]:8080 for IPv6)
//	10.96.0.0/12               every address of a CIDR block, any port
//
// Names are compared without case and without a trailing dot.
//
// # Where it is enforced, and DNS
//
// Policy.Transport guards an http.Transport where connections are made, so
// every request is checked, each redirect included, whatever the code that
// sends it. A destination is allowed when:
//
//   - its URL host is an IP address that an IP or CIDR entry allows;
//   - or its URL host is a name that a name entry allows: the name is
//     trusted as listed, whatever it resolves to, which is what lets an admin
//     allow in-cluster Services by name;
//   - or its URL host is a name no name entry allows, and it resolves to an
//     address that an IP or CIDR entry allows: the operator then connects to
//     that address, the one it checked, so a second DNS answer cannot steer
//     the connection elsewhere (DNS rebinding). A name that resolves only to
//     other addresses is refused.
//
// Through an HTTP proxy (an AlertProvider's proxy, or HTTP(S)_PROXY in the
// operator's environment) the proxy resolves the name, so the destination
// must be allowed as written in the URL (a listed name, or an IP literal),
// and the proxy's own address must be allowed too.
//
// A refused call fails with a *DeniedError, which is never retried.
package egress
