// Package analysis is Serin's canary state machine: a pure function, Step,
// that takes one Canary, the time and what the controller observed cheaply
// from its listers (target revision, readiness, route weights), and returns
// the next status, the ordered actions to apply, the Kubernetes events and the
// alerts of one analysis tick. It reproduces Flagger's phases, tick order,
// weight stepping and event wording (see flagger-behaviour.md §2), and says
// "Unlike Flagger," wherever it deliberately fixes one of Flagger's quirks.
// The only I/O it does goes through the Checks interface (webhooks and metric
// queries), which Step calls only when the phase needs it; everything else is
// data in, data out, so every transition is tested with plain tables.
package analysis
