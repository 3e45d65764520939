// Package events posts the operator's Kubernetes Events (core/v1, shaped as
// client-go's recorder shapes them) without losing them under load: a
// Recorder queues each event in memory without blocking the caller and posts
// it from one of many lanes, an object's events always through the same lane
// so that they keep their order and their correlation (repeats counted into
// one Event). Transient API errors are retried in the lane; the queue is
// bounded, and what does not fit is counted and logged, never lost silently.
//
// Why not client-go's record.EventBroadcaster: it posts from one goroutine
// and its queue drops, without a metric, what is beyond 1,000 waiting
// events. With a large fleet released at once on a saturated API server,
// most events of a canary were lost that way, even spread over many
// broadcasters (test/bench/RESULTS.md); users read `kubectl describe
// canary` to follow each step.
package events
