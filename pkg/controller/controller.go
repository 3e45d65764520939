package controller

import (
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
	informers "github.com/serin-dev/serin/pkg/client/informers/externalversions"
	listers "github.com/serin-dev/serin/pkg/client/listers/flagger/v1beta1"
)

// targetIndex indexes canaries by "<namespace>/<targetRef.name>", so that a
// Deployment event finds its canaries without a scan.
const targetIndex = "target"

// Controller runs canary releases.
type Controller struct {
	cfg      Config
	log      *logrus.Entry
	clock    clock.WithTicker
	queue    workqueue.TypedRateLimitingInterface[cache.ObjectName]
	schedule *schedule
	expected *expectations
	metrics  *syncMetrics
	queueMet *queueMetrics

	canaries       listers.CanaryLister
	canaryIndexer  cache.Indexer
	templates      listers.MetricTemplateLister
	alertProviders listers.AlertProviderLister
	synced         []cache.InformerSynced

	// life is shared by Run and Shutdown (run.go).
	life lifecycle
}

// Config holds what the controller needs; cmd/serin builds it from flags.
type Config struct {
	KubeClient    kubernetes.Interface
	FlaggerClient clientset.Interface

	KubeInformers    kubeinformers.SharedInformerFactory
	FlaggerInformers informers.SharedInformerFactory

	// RouteInformers are the informers of the routes the routers own; their
	// events wake the owning canary, so that drift is corrected at once.
	RouteInformers []cache.SharedIndexInformer

	// SecretInformer is an informer of Secrets, metadata-only in the
	// operator (see pkg/secretcache); a change to one wakes the canaries of
	// its namespace, whose targets may track it. Nil when config tracking
	// is off.
	SecretInformer cache.SharedIndexInformer

	// ScaledObjectInformer is an informer of KEDA ScaledObjects; the
	// deletion of a primary's wakes its canary, as for HPAs. Nil when the
	// cluster does not serve them.
	ScaledObjectInformer cache.SharedIndexInformer

	// Plugins are the router, workload, metrics and webhook implementations.
	Plugins Plugins

	Recorder record.EventRecorder
	Logger   *logrus.Entry
	// Clock defaults to the real clock; tests pass a fake one.
	Clock clock.WithTicker

	// MeshProvider is the default provider (-mesh-provider).
	MeshProvider string
	// MetricsServer is the default Prometheus address (-metrics-server).
	MetricsServer string
	// SchedulerTick is how often due canaries are enqueued; 1s by default.
	SchedulerTick time.Duration
	// NoCrossNamespaceRefs refuses canaries that reference MetricTemplates
	// or AlertProviders in other namespaces (-no-cross-namespace-refs).
	NoCrossNamespaceRefs bool
}

// New builds a controller and registers its informer handlers. Informer
// factories must be started by the caller after New.
func New(cfg Config) (*Controller, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = logrus.NewEntry(logrus.StandardLogger())
	}
	if cfg.SchedulerTick == 0 {
		cfg.SchedulerTick = time.Second
	}
	canaryInformer := cfg.FlaggerInformers.Flagger().V1beta1().Canaries()
	if err := canaryInformer.Informer().AddIndexers(cache.Indexers{targetIndex: indexByTarget, serviceIndex: indexByService}); err != nil {
		return nil, fmt.Errorf("add canary indexer: %w", err)
	}
	queueMet := newQueueMetrics()
	c := &Controller{
		queueMet:       queueMet,
		cfg:            cfg,
		log:            cfg.Logger,
		clock:          cfg.Clock,
		schedule:       newSchedule(),
		expected:       newExpectations(),
		metrics:        newSyncMetrics(),
		canaries:       canaryInformer.Lister(),
		canaryIndexer:  canaryInformer.Informer().GetIndexer(),
		templates:      cfg.FlaggerInformers.Flagger().V1beta1().MetricTemplates().Lister(),
		alertProviders: cfg.FlaggerInformers.Flagger().V1beta1().AlertProviders().Lister(),
	}
	// The same three layers as NewTypedRateLimitingQueueWithConfig builds,
	// over a storage that puts due canaries first.
	const name = "canaries"
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[cache.ObjectName](),
		workqueue.TypedRateLimitingQueueConfig[cache.ObjectName]{
			Name: name, Clock: cfg.Clock, MetricsProvider: queueMet,
			DelayingQueue: workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[cache.ObjectName]{
				Name: name, Clock: cfg.Clock, MetricsProvider: queueMet,
				Queue: workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[cache.ObjectName]{
					Name: name, Clock: cfg.Clock, MetricsProvider: queueMet,
					Queue: newPriorityQueue(c.urgent, cfg.Clock.Now),
				}),
			}),
		})
	if err := c.registerHandlers(); err != nil {
		return nil, err
	}
	return c, nil
}

// HasSynced reports whether every informer the controller reads from has
// synced.
func (c *Controller) HasSynced() bool {
	for _, synced := range c.synced {
		if !synced() {
			return false
		}
	}
	return true
}
