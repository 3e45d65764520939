// Package analysis is Serin's canary state machine: a pure function, Step,
// that takes one Canary, the time and what the controller observed cheaply
// from its listers (target revision, readiness, route weights, the revision
// the primary runs), and returns the next status, the ordered actions to
// apply, the Kubernetes events and the alerts of one analysis tick. It
// reproduces Flagger's phases, tick order, weight stepping and event wording
// (see flagger-behaviour.md §2), and says "Unlike Flagger," wherever it
// deliberately fixes one of Flagger's quirks. The only I/O it does goes
// through the Checks interface (webhooks and metric queries), which Step
// calls only when the phase needs it; everything else is data in, data out,
// so every transition is tested with plain tables.
//
// # Every step is resumable from the cluster
//
// The operator may stop at any instant (kill -9, OOM, a leader hand-over) and
// any write may fail. Nothing a step needs is kept in memory between ticks:
// the next tick, in this process or another, decides from the stored status
// and the observed cluster alone. Three rules make that hold.
//
//  1. A tick's writes run in a fixed order: Decision.Actions, then the
//     status, then Decision.AfterStatus, then events and alerts. Every
//     prefix of Actions leaves the cluster in a state from which the stored
//     phase decides the same step again (moving a route back to the primary,
//     creating objects, scaling a target up: all idempotent, all re-decided).
//  2. A write after which the stored phase could no longer decide its step
//     is made only once the status records the phase it belongs to
//     (AfterStatus), and that phase makes it again, from what the cluster
//     shows, until it is done: scaling the target to zero (a canary at zero
//     replicas in an analysis phase is a canary that never becomes ready;
//     Initialized, Succeeded and Failed settle the target at zero and the
//     route on the primary on every tick, see settle), and copying the
//     analysed template to the primary (Promoting makes the copy while the
//     primary does not record the analysed revision, see promotedCopy).
//  3. The primary only ever runs a revision that was analysed: the copy
//     names the revision (v1beta1.RevisionID of status.lastAppliedSpec and
//     trackedConfigs), the workload refuses it when the target no longer
//     runs it, and records it on the primary in the same write
//     (v1beta1.PromotedRevisionAnnotation), which is how a resumed
//     Promoting tick knows whether the copy was made.
//
// Events, alerts and post-rollout hooks follow the status write, so a failed
// write never repeats them; an interruption between the status write and
// them loses them (at most once). Webhook checks (gates, pre-rollout,
// rollout, rollback hooks) run before any write of their tick and are asked
// again when the tick is retried, as they are on every tick.
package analysis
