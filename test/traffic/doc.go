// Package traffic is the real-traffic e2e tier: the tutorial's releases on the stack of package
// stack (a control plane, real podinfo processes per Pod, Traefik as the Gateway API
// implementation, Prometheus, the serin operator), with steady load through Traefik measured by
// a splitmeter. It checks what users would see: a promotion without a single failed request
// and with the split each HTTPRoute weight intends, and a rollback when the canary answers
// errors. One scenario per file, each in its own namespace and host name, in parallel.
//
// It needs root (network namespaces) and is skipped otherwise; it runs only under
// `make test-e2e-traffic` (SERIN_E2E_TRAFFIC=1), which builds Traefik first (~5 min cold).
package traffic
