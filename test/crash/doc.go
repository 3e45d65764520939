// Package crash interrupts Serin at every API write of a release and
// proves that the release still ends where it would have (issue 12, "Prove
// it": interrupt at every write).
//
// Each scenario (promotion, rollback on metrics, rollback on a webhook,
// skipAnalysis, blue/green, A/B testing, weighted mirroring, a failed
// promotion, a progress deadline, revertOnDeletion, a new revision in the
// middle of the analysis and one during the promoting tick, and the
// canary's initialisation), and each release of the judge of issue 14 (an
// A/A release with and without early promotion, a rollback at three times
// the baseline's errors, a new revision and the Canary's deletion in the
// middle of a judged run), the releases of a target scaled by a KEDA
// ScaledObject, on KEDA's own CRD (keda_test.go: initialisation, promotion,
// rollback, revertOnDeletion; the short run interrupts each of their writes
// to ScaledObjects), and each release of a DaemonSet target (issue 18: its
// initialisation, a promotion, a rollback on metrics, a progress deadline
// and revertOnDeletion), first runs without a fault. The harness counts
// the API writes of that run: every POST, PUT, PATCH and DELETE of the
// operator except Events (posted asynchronously by their own lanes, never
// read back by the state machine) and Leases (leader election is off
// in-process). Then, for every k from 1 to that count, the scenario runs
// three more times: with write k answered 500 and not applied (the same
// operator goes on, with its retries and its in-memory state); with write
// k applied and the operator killed right after it — from that instant its
// transport refuses every request, its context is cancelled and nothing of
// it is kept — and a fresh operator (new clients, new informers, new
// controller) taking over at that instant of fake time; and with write k
// applied but its answer lost to a timeout, the same operator going on not
// knowing whether it happened.
//
// What is real: the kube-apiserver and etcd of the integration tier (one
// control plane for the package, one namespace per run) and the whole
// operator, built by pkg/operator exactly as cmd/serin builds it (its
// informers, workqueue, scheduler, router, workload controller, status
// writes, metric queries and webhook calls), reached through a
// rest.Config whose transport the harness wraps to count, fail and cut
// writes.
//
// What is simulated, and why: nothing else runs in this tier, so the
// harness plays the rest of a cluster with its own client, whose writes
// are never counted nor failed. Its world sets each Deployment's status as
// the Deployment controller would, the new pods being ready five seconds
// of fake time after a change while the old ones keep serving, except for
// the templates a scenario marks broken for that Deployment, whose new pods
// never become ready and whose progress deadline ends in
// ProgressDeadlineExceeded. It plays the DaemonSet controller the same way,
// on two nodes, none of which matches the scale-to-zero node selector; the
// invariants see a DaemonSet as its revision template, one replica per
// node it should run on, and its ready pods. It accepts every HTTPRoute
// for its parents as a Gateway controller would. Metrics come from an
// httptest server speaking the Prometheus HTTP API, webhooks from another,
// both answering what the scenario scripts. The judge's per-arm counter
// queries name the arm's Deployment; the server answers cumulative counts
// that grow with fake time, the arm's route weight and the error share of
// the image its Deployment runs (armCounters). The operator and the world
// share a fake clock that the harness jumps to the next timer whenever
// the run is quiet — no request, webhook call or metric query in flight,
// every write seen back by the harness' watches, the operator's workqueue
// empty and no sync running, nothing new for 50 ms — so an analysis
// interval costs no wall time and a run is deterministic. With
// no kubelet, no scheduler and no Gateway to wait for, a release takes a
// second or two instead of minutes, which is what makes enumerating every
// kill point of every scenario affordable. The tests with real processes
// (kill -9 of the serin binary, leader hand-over, a restarted API server,
// real pods behind real traffic) live in the e2e tier.
//
// The invariants are checked on every version of the run's Deployments,
// HTTPRoutes and Canaries, replayed from watches in the order the API
// server wrote them, not only at the end:
//
//  1. the release ends as the fault-free run does (Succeeded, Failed, or
//     for revertOnDeletion the Canary gone and the target serving again),
//     with the primary running the expected image;
//  2. the route's weights go through the same sequence as in the
//     fault-free run: no step skipped, none repeated but the interrupted
//     one (a repeat without any other step in between is invisible);
//  3. no route version sends weight to a Deployment without a ready pod,
//     by the world's count at that version (a Deployment whose spec says
//     zero replicas has none);
//  4. the primary only ever runs a template that was analysed: its first
//     one, or one the canary recorded as promoted (lastAppliedSpec when
//     Promoting, Finalising or Succeeded) and the metrics server was asked
//     about while the target ran it (skipAnalysis asks nothing);
//  5. nothing wedges: the release ends within twice the clock jumps of the
//     fault-free run, plus forty;
//  6. the judge's baseline is never left behind: no route version gives it
//     weight unless the canary is Progressing or WaitingPromotion, and no
//     podinfo-baseline Deployment is left once the release has ended (but
//     one that only the deleted Canary owns: garbage collection's, which
//     this tier does not run).
//
// A run that breaks an invariant fails, unless a known problem, described
// by its symptom in knownItems, explains every one of its violations: it
// is then skipped under that problem's name, so that the table still
// counts it and a fix turns it green.
//
// `make test` runs every scenario fault-free, the rollback on metrics at
// every write in the three modes, and the other scenarios at their middle
// and last writes, failed and killed (158 releases, under three minutes).
// `make test-crash` runs every write of every scenario in the three modes
// and prints the table of results.
package crash
