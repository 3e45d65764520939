// Package tutorial runs the steps of Flagger's Gateway API tutorial against a stack (package
// stack), with Traefik in Istio's place: it installs the Gateway, the load tester, podinfo, the
// MetricTemplates and the Canary, releases new versions, and follows a release as the tutorial's
// reader would (phases, events, HTTPRoute weights) while a splitmeter measures the split at the
// gateway. `make demo` prints what it sees; the traffic e2e tests assert on it.
package tutorial
