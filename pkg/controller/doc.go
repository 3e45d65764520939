// Package controller runs Serin's control loop: shared informers feed a
// rate-limited workqueue of canary keys, a ticker enqueues the canaries
// whose analysis is due, and workers sync one canary at a time by gathering
// observations from listers, asking pkg/analysis for a decision and applying
// it through the workload, router, metrics and webhook packages.
package controller
