package events

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
)

// Defaults of Config.
const (
	// DefaultLanes is how many events are posted at once: a post waits on a
	// busy API server, and the lanes keep up with a large fleet releasing at
	// once (test/bench/RESULTS.md).
	DefaultLanes = 64
	// DefaultMaxPending bounds the events waiting to be posted: about ten per
	// canary for the largest fleet the bench runs, a bounded memory when full.
	DefaultMaxPending = 100_000
	// DefaultRequestTimeout bounds one request to the API server.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultBackoff is the wait before the first retry of a transient error.
	DefaultBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps the doubling of the wait between retries.
	DefaultMaxBackoff = 10 * time.Second
	// DefaultMaxTries is how many times an event is tried: with the default
	// backoff, a short API server outage (a restart) loses nothing.
	DefaultMaxTries = 6
	// DefaultDrainTimeout bounds how long Shutdown keeps posting.
	DefaultDrainTimeout = 5 * time.Second
	// DefaultLaneCacheSize is the size of each lane's correlator caches,
	// smaller than client-go's: every message of every canary has an entry,
	// and with client-go's size the caches of a large fleet held most of the
	// operator's memory. The repeats that the cache is for (a "not ready"
	// warning each interval) come back within an interval or two, well
	// inside it.
	DefaultLaneCacheSize = 512
)

// stopGrace is how long Shutdown waits, after the drain timeout cancelled
// the requests in flight, for the lanes to return.
const stopGrace = time.Second

// Config is what a Recorder posts with. Zero values take the defaults.
type Config struct {
	// Client posts the events.
	Client kubernetes.Interface
	// Scheme names the kind of the objects the events are about.
	Scheme *runtime.Scheme
	// Component is the events' source.component and reportingComponent.
	Component string
	// Correlator counts repeated events and throttles spam, as in client-go;
	// an LRUCacheSize of 0 is DefaultLaneCacheSize, for each lane.
	// Each lane has its own correlator, which is right as long as the keys
	// include the involved object, as client-go's defaults do.
	Correlator record.CorrelatorOptions
	// Logger receives failures and drops; the standard logger by default.
	Logger *logrus.Entry
	// Lanes is how many events are posted at once.
	Lanes int
	// MaxPending bounds the events recorded and not yet posted, over all lanes.
	MaxPending int
	// RequestTimeout bounds each request.
	RequestTimeout time.Duration
	// Backoff is the wait before the first retry; it doubles up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// MaxTries is how many times an event is tried against transient errors.
	MaxTries int
	// DrainTimeout bounds how long Shutdown posts what is pending.
	DrainTimeout time.Duration
	// Clock stamps the events and times the retries.
	Clock clock.Clock
}

func (c Config) withDefaults() Config {
	c.Lanes = cmp.Or(c.Lanes, DefaultLanes)
	c.MaxPending = cmp.Or(c.MaxPending, DefaultMaxPending)
	c.RequestTimeout = cmp.Or(c.RequestTimeout, DefaultRequestTimeout)
	c.Backoff = cmp.Or(c.Backoff, DefaultBackoff)
	c.MaxBackoff = cmp.Or(c.MaxBackoff, DefaultMaxBackoff)
	c.MaxTries = cmp.Or(c.MaxTries, DefaultMaxTries)
	c.DrainTimeout = cmp.Or(c.DrainTimeout, DefaultDrainTimeout)
	c.Correlator.LRUCacheSize = cmp.Or(c.Correlator.LRUCacheSize, DefaultLaneCacheSize)
	if c.Logger == nil {
		c.Logger = logrus.NewEntry(logrus.StandardLogger())
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	return c
}

// Recorder records Kubernetes Events for the controller. It is safe for
// concurrent use; its methods never block on the API server.
//
// client-go's broadcaster posts from one goroutine and silently drops what
// is beyond 1,000 queued events: at 10,000 simultaneous releases on a
// saturated API server about 60% of the events were lost. A Recorder posts
// from Config.Lanes goroutines, retries transient errors, and drops only
// beyond Config.MaxPending, counting every drop in serin_events_dropped_total.
type Recorder struct {
	cfg     Config
	log     *logrus.Entry
	lanes   []*lane
	metrics *metrics

	// pending counts events from Event until their post ends.
	pending atomic.Int64
	// lastNano makes event names unique when the clock repeats itself.
	lastNano atomic.Int64
	closed   atomic.Bool
	// unlogged counts the drops since the last log; lastDropLog is its time.
	unlogged    atomic.Int64
	lastDropLog atomic.Int64

	// stopping is closed by Shutdown: the lanes post what they hold and return.
	stopping chan struct{}
	// posting is the context of the requests; cancelled when the drain ends.
	posting   context.Context
	cancel    context.CancelFunc
	lanesDone sync.WaitGroup
	stopOnce  sync.Once
}

var _ record.EventRecorder = (*Recorder)(nil)

// New starts a Recorder. It stops, as Shutdown does, when ctx ends; the
// requests of the drain run past ctx's end, bounded by Config.DrainTimeout.
func New(ctx context.Context, cfg Config) *Recorder {
	cfg = cfg.withDefaults()
	posting, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &Recorder{
		cfg:      cfg,
		log:      cfg.Logger.WithField("component", "events"),
		stopping: make(chan struct{}),
		posting:  posting,
		cancel:   cancel,
	}
	r.metrics = newMetrics(func() float64 { return float64(r.pending.Load()) })
	for range cfg.Lanes {
		l := newLane(record.NewEventCorrelatorWithOptions(cfg.Correlator))
		r.lanes = append(r.lanes, l)
		r.lanesDone.Add(1)
		go r.run(l)
	}
	go func() {
		select {
		case <-ctx.Done():
			r.Shutdown()
		case <-r.stopping:
		}
	}()
	return r
}

// Event records an event about obj.
func (r *Recorder) Event(obj runtime.Object, eventtype, reason, message string) {
	r.record(obj, nil, eventtype, reason, message)
}

// Eventf records an event about obj with a formatted message.
func (r *Recorder) Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any) {
	r.record(obj, nil, eventtype, reason, fmt.Sprintf(messageFmt, args...))
}

// AnnotatedEventf records an event about obj with annotations on the Event.
func (r *Recorder) AnnotatedEventf(obj runtime.Object, annotations map[string]string, eventtype, reason, messageFmt string, args ...any) {
	// Copied: the map is read when the event is posted, after this returns.
	r.record(obj, maps.Clone(annotations), eventtype, reason, fmt.Sprintf(messageFmt, args...))
}

// Collectors returns the metrics to register on the operator's registry.
func (r *Recorder) Collectors() []prometheus.Collector {
	return r.metrics.collectors()
}

// record queues an event, or drops it when MaxPending events are waiting.
func (r *Recorder) record(obj runtime.Object, annotations map[string]string, eventtype, reason, message string) {
	if r.closed.Load() {
		return
	}
	e, err := r.newEntry(obj, annotations, eventtype, reason, message)
	if err != nil {
		// As client-go does: a programming error, not worth failing a sync.
		r.log.WithError(err).WithFields(logrus.Fields{"type": eventtype, "reason": reason, "message": message}).
			Error("Event not recorded")
		return
	}
	if r.pending.Add(1) > int64(r.cfg.MaxPending) {
		r.pending.Add(-1)
		r.drop(1)
		return
	}
	if !r.laneOf(e).push(e) {
		r.pending.Add(-1) // the lane stopped since the check of closed
	}
}

// laneOf is the lane of the event's object, always the same one.
func (r *Recorder) laneOf(e *entry) *lane {
	h := fnv.New32a()
	_, _ = h.Write([]byte(e.ref.Namespace + "/" + e.ref.Name))
	return r.lanes[h.Sum32()%uint32(len(r.lanes))]
}

// Shutdown stops recording: later events are ignored, the pending ones are
// posted for at most Config.DrainTimeout, then the requests in flight are
// cancelled and what is left is dropped and counted. It returns within
// DrainTimeout plus a second, even if the API server does not answer.
func (r *Recorder) Shutdown() {
	r.stopOnce.Do(r.stop)
}

func (r *Recorder) stop() {
	r.closed.Store(true)
	close(r.stopping)
	done := make(chan struct{})
	go func() {
		r.lanesDone.Wait()
		close(done)
	}()
	drain := r.cfg.Clock.NewTimer(r.cfg.DrainTimeout)
	defer drain.Stop()
	select {
	case <-done:
	case <-drain.C():
		r.cancel()
		grace := r.cfg.Clock.NewTimer(stopGrace)
		defer grace.Stop()
		select {
		case <-done:
		case <-grace.C():
			r.log.Warn("Event lanes still waiting on the API server at shutdown")
		}
	}
	r.cancel()
	r.flushDropLog()
}
