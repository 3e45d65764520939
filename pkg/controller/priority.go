package controller

import (
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// priorityQueue is the storage under the controller's workqueue: keys whose
// analysis step is due leave it before every other key. Informer events wake
// canaries at any time — a Deployment's status during a rollout, a
// namespace's ConfigMap, an HPA — and most of those syncs find nothing to do;
// in a plain FIFO a burst of them would hold back the steps of canaries in a
// release, which must run on time. Within a class the order is FIFO.
//
// The workqueue calls its methods under its own lock and keeps each key in
// it at most once; priorityQueue only orders them.
type priorityQueue struct {
	// urgent tells whether a key is due when it is pushed or touched.
	urgent func(cache.ObjectName) bool
	// due and other are FIFOs; an entry is live only while class records
	// the same class for its key (a key moved to due leaves a dead entry in
	// other, skipped by Pop).
	due, other []cache.ObjectName
	class      map[cache.ObjectName]queueClass
}

type queueClass int8

const (
	classOther queueClass = iota + 1
	classDue
)

var _ workqueue.Queue[cache.ObjectName] = (*priorityQueue)(nil)

func newPriorityQueue(urgent func(cache.ObjectName) bool) *priorityQueue {
	return &priorityQueue{urgent: urgent, class: map[cache.ObjectName]queueClass{}}
}

// Push adds a key that is not in the queue.
func (q *priorityQueue) Push(key cache.ObjectName) {
	if q.urgent(key) {
		q.class[key] = classDue
		q.due = append(q.due, key)
		return
	}
	q.class[key] = classOther
	q.other = append(q.other, key)
}

// Touch is called when a key already in the queue is added again: one that
// has become due since it was pushed (its timer fired while an informer
// event had queued it) moves ahead.
func (q *priorityQueue) Touch(key cache.ObjectName) {
	if q.class[key] == classOther && q.urgent(key) {
		q.class[key] = classDue
		q.due = append(q.due, key)
	}
}

// Len is the number of keys in the queue.
func (q *priorityQueue) Len() int { return len(q.class) }

// Pop removes the first due key, or else the first other key. The
// workqueue calls it only when Len is not 0.
func (q *priorityQueue) Pop() cache.ObjectName {
	if key, ok := q.popFrom(&q.due, classDue); ok {
		return key
	}
	key, _ := q.popFrom(&q.other, classOther)
	return key
}

func (q *priorityQueue) popFrom(list *[]cache.ObjectName, class queueClass) (cache.ObjectName, bool) {
	for len(*list) > 0 {
		key := (*list)[0]
		(*list)[0] = cache.ObjectName{}
		*list = (*list)[1:]
		if q.class[key] == class {
			delete(q.class, key)
			return key, true
		}
	}
	return cache.ObjectName{}, false
}
