package controller

import (
	"errors"
	"fmt"
	"time"
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
