package controller

import (
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// priorityQueue is the storage under the controller's workqueue: keys that
// are urgent (an analysis step is due, or a user changed something) leave
// it before every other key. Informer events wake canaries at any time — a
// Deployment's status during a rollout, a namespace's ConfigMap, an HPA —
// and most of those syncs find nothing to do; in a plain FIFO a burst of
// them would hold back the steps of canaries in a release, which must run
// on time. Within a class the order is FIFO.
//
// Urgent first alone would starve the other class while the urgent one
// never empties (a large fleet on a saturated API server), so once the
// first other key has waited otherGrace longer than the first urgent key,
// the two classes take turns: no key waits forever, and the urgent class
// still moves. The grace is long because what waits there is not on a
// clock (a new canary, a Deployment's status): with a short one, canaries
// initialising during a mass release went ahead of the steps and gave the
// releases back their delays. Turns rather than other-first, because with
// many new canaries other-first held back every half-initialised canary
// until the last new one had started, and initialisation took longer
// (test/bench/RESULTS.md).
//
// The workqueue calls its methods under its own lock and keeps each key in
// it at most once; priorityQueue only orders them.
type priorityQueue struct {
	// urgent tells whether a key is due when it is pushed or touched.
	urgent func(cache.ObjectName) bool
	now    func() time.Time
	// due and other are FIFOs; an entry is live only while class records
	// the same class for its key (a key moved to due leaves a dead entry in
	// other, skipped by Pop).
	due, other []queued
	class      map[cache.ObjectName]queueClass
	// tookOther records that the last pop, made while the other class was
	// overdue, took from it: the next one takes from the urgent class.
	tookOther bool
}

// otherGrace is how much longer than the first urgent key the first other
// key waits before it goes ahead.
const otherGrace = 5 * time.Minute

// queued is a key and when it entered its class.
type queued struct {
	key cache.ObjectName
	at  time.Time
}

type queueClass int8

const (
	classOther queueClass = iota + 1
	classDue
)

var _ workqueue.Queue[cache.ObjectName] = (*priorityQueue)(nil)

func newPriorityQueue(urgent func(cache.ObjectName) bool, now func() time.Time) *priorityQueue {
	return &priorityQueue{urgent: urgent, now: now, class: map[cache.ObjectName]queueClass{}}
}

// Push adds a key that is not in the queue.
func (q *priorityQueue) Push(key cache.ObjectName) {
	entry := queued{key: key, at: q.now()}
	if q.urgent(key) {
		q.class[key] = classDue
		q.due = append(q.due, entry)
		return
	}
	q.class[key] = classOther
	q.other = append(q.other, entry)
}

// Touch is called when a key already in the queue is added again: one that
// has become due since it was pushed (its timer fired while an informer
// event had queued it) moves ahead.
func (q *priorityQueue) Touch(key cache.ObjectName) {
	if q.class[key] == classOther && q.urgent(key) {
		q.class[key] = classDue
		q.due = append(q.due, queued{key: key, at: q.now()})
	}
}

// Len is the number of keys in the queue.
func (q *priorityQueue) Len() int { return len(q.class) }

// Pop removes the first due key, or else the first other key; while the
// first other key has waited otherGrace longer than the first due key, the
// classes take turns. The workqueue calls it only when Len is not 0.
func (q *priorityQueue) Pop() cache.ObjectName {
	due, hasDue := q.head(&q.due, classDue)
	other, hasOther := q.head(&q.other, classOther)
	overdue := hasDue && hasOther && !other.at.Add(otherGrace).After(due.at)
	takeOther := !hasDue || (overdue && !q.tookOther)
	q.tookOther = overdue && takeOther
	if takeOther {
		return q.take(&q.other)
	}
	return q.take(&q.due)
}

// head drops the dead entries at the front of list and returns the first
// live one.
func (q *priorityQueue) head(list *[]queued, class queueClass) (queued, bool) {
	for len(*list) > 0 {
		if entry := (*list)[0]; q.class[entry.key] == class {
			return entry, true
		}
		q.shift(list)
	}
	return queued{}, false
}

// take removes the first entry of list, which head found live.
func (q *priorityQueue) take(list *[]queued) cache.ObjectName {
	key := (*list)[0].key
	q.shift(list)
	delete(q.class, key)
	return key
}

func (q *priorityQueue) shift(list *[]queued) {
	(*list)[0] = queued{}
	*list = (*list)[1:]
}
