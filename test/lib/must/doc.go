// Package must holds the polling assertions that Serin's integration and end-to-end tests use to
// wait for a real control plane to converge. A failed wait stops the test and reports the last
// state that was observed, so that a timeout explains itself.
package must
