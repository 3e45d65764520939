package controller

import (
	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
)

// EventCorrelatorOptions configures the event recorder for canary events.
//
// client-go's defaults suit controllers that emit a few kinds of event per
// object: they fold more than ten different messages with one reason into
// "(combined from similar events)", and allow an object 25 events and then
// one per five minutes. Every canary event has the reason Synced (as in
// Flagger) and a release emits a dozen different ones, so the defaults
// would swallow the second half of every release. Here the message is part
// of both keys: different messages are never folded nor throttled
// together, while one message repeated every interval (a canary that stays
// not ready, say) is still counted, then throttled.
func EventCorrelatorOptions() record.CorrelatorOptions {
	return record.CorrelatorOptions{
		KeyFunc: func(event *corev1.Event) (string, string) {
			aggregate, local := record.EventAggregatorByReasonFunc(event)
			return aggregate + event.Message, local
		},
		SpamKeyFunc: func(event *corev1.Event) string {
			return event.Source.Component + event.InvolvedObject.Namespace + event.InvolvedObject.Name +
				string(event.InvolvedObject.UID) + event.Type + event.Reason + event.Message
		},
	}
}

// canaryLog is the one way to log about a canary: its name and namespace
// as fields, so that the message stays static and logs can be filtered by
// either.
func canaryLog(log *logrus.Entry, namespace, name string) *logrus.Entry {
	return log.WithFields(logrus.Fields{"canary": name, "namespace": namespace})
}
