// Package chaos injects real faults into real processes on the end-to-end stack (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, KWOK nodes, Prometheus and the serin
// binary) while canary releases run, and checks what an operator that moves production traffic
// must guarantee whatever happens to it: every release ends in the phase it would have reached
// without the fault, within a bound; the route's weights never skip a step; no route sends
// traffic to a Deployment without ready replicas; the primary only ever runs a revision that
// was analysed; a failing dependency shows as failed checks with an event that says why, never
// as a crash.
//
// The faults: kill -9 of the operator at random moments, the leader of two replicas killed,
// SIGTERM in the middle of a step, kube-apiserver restarted, Prometheus refusing connections,
// hanging or answering garbage (through a fault-injecting proxy), webhooks that hang, fail or
// refuse connections, and another writer changing the HTTPRoute. Invariants are recorded from
// watches for the whole run, not sampled at the end.
//
// The tests share one control plane (TestMain) and run in parallel, each with its own namespace
// and its own operator processes (started with -namespace), so that killing one operator
// disturbs no other test. `go test` runs short versions; SERIN_CHAOS_LONG=1 (make test-chaos)
// runs the long ones, whose figures are in RESULTS.md.
package chaos
