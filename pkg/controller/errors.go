package controller

import (
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// requeueAfterError asks the worker to retry the key after a delay instead
// of with the rate limiter's backoff.
type requeueAfterError struct {
	after time.Duration
	err   error
}

func (e *requeueAfterError) Error() string {
	return fmt.Sprintf("requeue after %s: %v", e.after, e.err)
}

func (e *requeueAfterError) Unwrap() error { return e.err }

// requeueAfter wraps err so that the key is retried after d.
func requeueAfter(d time.Duration, err error) error {
	return &requeueAfterError{after: d, err: err}
}

// permanentError marks a failure that retrying cannot fix (bad input); the
// sync has already reported it on the Canary's status and events.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

func (e *permanentError) Unwrap() error { return e.err }

// permanent wraps err so that the worker forgets the key.
func permanent(err error) error {
	return &permanentError{err: err}
}

// isPermanent reports whether err is a permanent error.
func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// namespaceTerminating reports whether err is the API server's refusal to
// create an object in a namespace that is being deleted. No retry can pass
// it, and what the sync wanted to create goes with the namespace anyway:
// the key is forgotten until its next event (the Canary's own deletion,
// which the namespace deletion brings, is one). Retried, a canary of a
// deleted namespace kept re-creating its Services and route until it was
// gone (issue 12).
func namespaceTerminating(err error) bool {
	return apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause)
}
