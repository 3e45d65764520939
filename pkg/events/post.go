package events

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
)

// Values of the result label of serin_events_posted_total.
const (
	resultCreated = "created"
	resultPatched = "patched"
	resultFailed  = "failed"
)

// send correlates an event and writes it, retrying transient errors in the
// lane: the object's later events wait, so that they stay in order.
func (r *Recorder) send(correlator *record.EventCorrelator, ev *corev1.Event) {
	defer r.pending.Add(-1)
	result, err := correlator.EventCorrelate(ev)
	if err != nil {
		// Only building the patch of a repeat can fail; without it the
		// Event cannot be updated.
		r.fail(ev, err, 0)
		return
	}
	if result.Skip {
		return // throttled as spam by the correlator's options
	}
	for try := 1; ; try++ {
		written, outcome, err := r.write(result.Event, result.Patch)
		if err == nil {
			correlator.UpdateState(written)
			r.metrics.posted.WithLabelValues(outcome).Inc()
			return
		}
		if try > 1 && outcome == resultCreated && apierrors.IsAlreadyExists(err) {
			// An earlier try was created although its answer was lost.
			r.metrics.posted.WithLabelValues(outcome).Inc()
			return
		}
		if !retryable(err) || try >= r.cfg.MaxTries {
			r.fail(result.Event, err, try)
			return
		}
		if !r.sleep(r.backoff(try, err)) {
			r.fail(result.Event, err, try) // Shutdown's drain timed out
			return
		}
	}
}

// write patches the Event of a repeat, or creates the Event: a repeat whose
// Event has gone (expired, deleted) is created again, as client-go does.
func (r *Recorder) write(ev *corev1.Event, patch []byte) (*corev1.Event, string, error) {
	ctx, cancel := context.WithTimeout(r.posting, r.cfg.RequestTimeout)
	defer cancel()
	client := r.cfg.Client.CoreV1().Events(ev.Namespace)
	if ev.Count > 1 {
		written, err := client.Patch(ctx, ev.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		if !apierrors.IsNotFound(err) {
			return written, resultPatched, err
		}
	}
	fresh := *ev
	fresh.ResourceVersion = ""
	written, err := client.Create(ctx, &fresh, metav1.CreateOptions{})
	return written, resultCreated, err
}

// retryable reports whether an error may pass if the request is tried
// again: the API server's overload and 5xx answers, transport errors and
// the request's own timeout. Every other answer of the API server (invalid,
// forbidden, already exists, namespace terminating) would be the same again;
// so would a request that cannot be built, or one cancelled by Shutdown.
func retryable(err error) bool {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		code := status.Status().Code
		return code == http.StatusTooManyRequests || code >= http.StatusInternalServerError ||
			apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err)
	}
	var construction *rest.RequestConstructionError
	return !errors.As(err, &construction) && !errors.Is(err, context.Canceled)
}

// backoff is the wait after a try: Config.Backoff doubled for each earlier
// try, at least what the API server asked for, at most Config.MaxBackoff,
// plus up to a quarter at random so that lanes that failed together do not
// retry together.
func (r *Recorder) backoff(try int, err error) time.Duration {
	d := r.cfg.Backoff
	for i := 1; i < try && d < r.cfg.MaxBackoff; i++ {
		d *= 2
	}
	if seconds, ok := apierrors.SuggestsClientDelay(err); ok {
		d = max(d, time.Duration(seconds)*time.Second)
	}
	d = min(d, r.cfg.MaxBackoff)
	return d + rand.N(d/4+1)
}

// sleep waits d; false if the drain timeout cancelled the posting meanwhile.
func (r *Recorder) sleep(d time.Duration) bool {
	t := r.cfg.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-r.posting.Done():
		return false
	}
}

// fail counts and logs an event that will not be posted. Rejections that
// are expected (the namespace is being deleted, the Event exists) and the
// cancellations of Shutdown are logged at debug level only.
func (r *Recorder) fail(ev *corev1.Event, err error, tries int) {
	r.metrics.posted.WithLabelValues(resultFailed).Inc()
	log := r.log.WithError(err).WithFields(logrus.Fields{
		"kind":      ev.InvolvedObject.Kind,
		"name":      ev.InvolvedObject.Name,
		"namespace": ev.InvolvedObject.Namespace,
		"reason":    ev.Reason,
		"message":   ev.Message,
		"tries":     tries,
	})
	if apierrors.IsAlreadyExists(err) || apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) ||
		errors.Is(err, context.Canceled) {
		log.Debug("Event not posted")
		return
	}
	log.Warn("Event not posted")
}
