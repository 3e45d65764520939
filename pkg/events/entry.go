package events

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record/util"
	"k8s.io/client-go/tools/reference"
)

// entry is an event waiting in a lane. It holds what its Event is made of,
// not the Event, which is built when it is posted: less than half the size
// of the Event struct, so that a full queue stays small.
type entry struct {
	ref         *corev1.ObjectReference
	annotations map[string]string
	eventtype   string
	reason      string
	message     string
	name        string
	at          time.Time
}

// errEventType is the error of an event type other than Normal and Warning.
var errEventType = errors.New("unsupported event type")

// newEntry captures an event as client-go's recorder does: the reference
// to the object, the time, and a name made of the object's name and the
// time in hex nanoseconds.
func (r *Recorder) newEntry(obj runtime.Object, annotations map[string]string, eventtype, reason, message string) (*entry, error) {
	ref, err := reference.GetReference(r.cfg.Scheme, obj)
	if err != nil {
		return nil, fmt.Errorf("reference to the object: %w", err)
	}
	if !util.ValidateEventType(eventtype) {
		return nil, fmt.Errorf("%w %q", errEventType, eventtype)
	}
	now := r.cfg.Clock.Now()
	return &entry{
		ref:         ref,
		annotations: annotations,
		eventtype:   eventtype,
		reason:      reason,
		message:     message,
		name:        util.GenerateEventName(ref.Name, r.uniqueNano(now)),
		at:          now,
	}, nil
}

// uniqueNano is now in nanoseconds, made greater than the last one returned
// so that two events of one object never share a name (a coarse clock would
// otherwise make the second one fail with AlreadyExists).
func (r *Recorder) uniqueNano(now time.Time) int64 {
	for {
		last, n := r.lastNano.Load(), now.UnixNano()
		if n <= last {
			n = last + 1
		}
		if r.lastNano.CompareAndSwap(last, n) {
			return n
		}
	}
}

// event is the core/v1 Event as client-go's recorder makes it: counted
// once, in the object's namespace (default for cluster-scoped objects),
// reported by the source component, without eventTime, reportingInstance
// (client-go's is the source's host, which the operator leaves empty) or
// series.
func (e *entry) event(component string) *corev1.Event {
	t := metav1.NewTime(e.at)
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:        e.name,
			Namespace:   cmp.Or(e.ref.Namespace, metav1.NamespaceDefault),
			Annotations: e.annotations,
		},
		InvolvedObject:      *e.ref,
		Reason:              e.reason,
		Message:             e.message,
		Source:              corev1.EventSource{Component: component},
		FirstTimestamp:      t,
		LastTimestamp:       t,
		Count:               1,
		Type:                e.eventtype,
		ReportingController: component,
	}
}
