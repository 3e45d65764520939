// Package syncerr lets the code that knows what went wrong say what a sync
// should do about it, so that the controller keeps no list of other
// packages' errors (the pattern of knative's controller.NewPermanentError).
//
// An error is transient unless it says otherwise: the sync is retried with
// the workqueue's backoff. A permanent error comes from a spec that cannot
// work: the controller reports it once, on the Canary's Promoted condition
// and in a Warning event, and waits for the Canary to change. Its message
// names the field to fix and says how.
package syncerr

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// permanentError marks err as one that no retry can fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that no retry can fix; nil stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// Invalid is a permanent error about a field of the Canary: the message
// starts with the field's path (spec.targetRef.kind) and says what to do.
func Invalid(field, format string, args ...any) error {
	return Permanent(fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

// Refusal is implemented by error types that are always permanent, such as
// a router's report of a field it cannot express: the type says it once
// instead of every caller wrapping it.
type Refusal interface {
	error
	// Permanent reports whether no retry can fix the error.
	Permanent() bool
}

// IsPermanent reports whether err, or an error it wraps (errors.Join
// included), was marked permanent or is a permanent Refusal.
func IsPermanent(err error) bool {
	var p *permanentError
	if errors.As(err, &p) {
		return true
	}
	var r Refusal
	return errors.As(err, &r) && r.Permanent()
}

// NamespaceTerminating reports whether err is the API server's refusal to
// create an object in a namespace that is being deleted. No retry can pass
// it, and what the sync wanted to create goes with the namespace anyway, so
// nothing is reported either: the canary's own deletion, which the
// namespace's brings, is its next event.
func NamespaceTerminating(err error) bool {
	return apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause)
}
