package operator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gatewayinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"

	"github.com/serin-dev/serin/pkg/canary"
	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned/scheme"
	informers "github.com/serin-dev/serin/pkg/client/informers/externalversions"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/events"
	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/pkg/notifier"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/pkg/secretcache"
	"github.com/serin-dev/serin/pkg/telemetry"
	"github.com/serin-dev/serin/pkg/webhook"
	"github.com/serin-dev/serin/pkg/webhook/egress"
)

// EventComponent is the source of the operator's events. It is Flagger's,
// so that event filters and alert rules written for Flagger keep matching.
const EventComponent = "flagger"

// Defaults of Config.
const (
	// DefaultMeshProvider is the traffic provider when Config.MeshProvider
	// is empty (Flagger's -mesh-provider=gatewayapi:v1).
	DefaultMeshProvider = router.ProviderGatewayAPIV1
	// DefaultMetricsServer is Flagger's default Prometheus address.
	DefaultMetricsServer = "http://prometheus:9090"
	// DefaultWorkers is how many canaries are synced at once. A worker
	// mostly waits on API writes, so a few workers (Flagger has 2) run the
	// steps of a large fleet late on a busy API server; more workers cost no
	// CPU and no requests. The figures are in test/bench/RESULTS.md.
	DefaultWorkers = 128
)

// Config is everything an operator is built from. Only REST is required;
// the zero value of every other field is Serin's default, which is
// Flagger's where Flagger has the setting.
type Config struct {
	// REST reaches the API server. It is used as given (QPS, Burst,
	// UserAgent, WrapTransport): every client of the operator, discovery
	// included, goes through it, so a wrapped transport sees every request
	// the operator makes. New does not modify it.
	REST *rest.Config
	// Clock drives the analysis: the scheduler, intervals, progress
	// deadlines, readiness and the timestamps written in Canary status. Nil
	// means the real clock; pass a k8s.io/utils/clock/testing.FakeClock to
	// step time by hand. Kubernetes Events and their retries keep the real
	// clock, so a fake clock that is never stepped cannot stall them.
	Clock clock.WithTicker
	// Logger receives the operator's logs; the standard logger when nil.
	Logger *logrus.Entry

	// Namespace limits the operator to one namespace; all when empty
	// (-namespace).
	Namespace string
	// MeshProvider is the default traffic provider, gatewayapi:v1 or
	// gatewayapi:v1beta1 (-mesh-provider); DefaultMeshProvider when empty.
	// The cluster must serve HTTPRoutes of that version.
	MeshProvider string
	// MetricsServer is the Prometheus address for the builtin metrics and
	// inline queries (-metrics-server); DefaultMetricsServer when empty.
	MetricsServer string
	// Workers is how many canaries are synced at once (-threadiness);
	// DefaultWorkers when zero.
	Workers int
	// SchedulerTick is how often canaries whose analysis is due are
	// enqueued (-scheduler-tick); one second when zero.
	SchedulerTick time.Duration

	// SelectorLabels are the pod label keys tried, in order, as a target's
	// selector (-selector-labels); canary.DefaultSelectorLabels when empty.
	SelectorLabels []string
	// IncludeLabelPrefix lists the prefixes of the target's label and
	// annotation keys copied to the primary objects (-include-label-prefix);
	// "*" copies all, none when empty, as in Flagger.
	IncludeLabelPrefix []string
	// NoCrossNamespaceRefs refuses canaries whose MetricTemplate or
	// AlertProvider references point to another namespace
	// (-no-cross-namespace-refs): the Promoted condition (InvalidSpec) and a
	// Warning event name the field, and the canary waits for a fix.
	NoCrossNamespaceRefs bool
	// DisableConfigTracking turns off the tracking of the ConfigMaps and
	// Secrets of targets (-enable-config-tracking=false).
	DisableConfigTracking bool
	// EventWebhook receives every event of the canaries without event
	// webhooks of their own (-event-webhook).
	EventWebhook string

	// Alerts are the global notifiers, for canaries without alerts of their
	// own (-slack-url, -msteams-url, …). New reads no environment variable:
	// fill them with notifier.GlobalConfig.FillFromEnv first if needed.
	Alerts notifier.GlobalConfig
	// ClusterName is shown in every alert (-cluster-name).
	ClusterName string
	// Egress bounds where webhooks, event webhooks and alerts may be sent
	// (-webhook-allowed-hosts); nil allows any destination, as Flagger does.
	Egress *egress.Policy
}

// Operator is a wired operator, ready to Run. It watches nothing and writes
// nothing until Run.
type Operator struct {
	cfg        Config
	controller *controller.Controller
	alerts     *notifier.Dispatcher
	releases   *telemetry.Releases
	events     *events.Recorder
	start      []func(<-chan struct{})
}

// New builds the clients, informers, plugins and controller of an operator.
// It makes a few discovery requests, to find the HTTPRoute versions the
// cluster serves, and fails when the version of Config.MeshProvider is not
// served, or when a setting is invalid. The event recorder it starts stops
// when ctx ends; New starts nothing else.
func New(ctx context.Context, cfg Config) (*Operator, error) {
	if cfg.REST == nil {
		return nil, errors.New("operator: Config.REST is required")
	}
	cfg = cfg.withDefaults()
	rc := rest.CopyConfig(cfg.REST)
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	flagger, err := clientset.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	gateway, err := gatewayclient.NewForConfig(rc)
	if err != nil {
		return nil, err
	}

	kubeFactory := kubeinformers.NewSharedInformerFactoryWithOptions(kube, 0, kubeinformers.WithNamespace(cfg.Namespace),
		kubeinformers.WithTransform(kubeTransform))
	flaggerFactory := informers.NewSharedInformerFactoryWithOptions(flagger, 0, informers.WithNamespace(cfg.Namespace),
		informers.WithTransform(stripManagedFields))
	gatewayFactory := gatewayinformers.NewSharedInformerFactoryWithOptions(gateway, 0, gatewayinformers.WithNamespace(cfg.Namespace),
		gatewayinformers.WithTransform(stripManagedFields))
	// Secrets are watched by their metadata only; the data of the few that
	// targets, MetricTemplates and AlertProviders use is read when needed.
	metadataClient, err := metadata.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	metadataFactory := metadatainformer.NewFilteredSharedInformerFactory(metadataClient, 0, cfg.Namespace, nil)
	secretInformer := metadataFactory.ForResource(corev1.SchemeGroupVersion.WithResource("secrets")).Informer()
	if err := secretInformer.SetTransform(stripManagedFields); err != nil {
		return nil, err
	}
	secrets, err := secretcache.New(kube, secretInformer)
	if err != nil {
		return nil, err
	}

	routers, routeInformers, err := newRouters(kube, gateway, gatewayFactory, cfg.MeshProvider)
	if err != nil {
		return nil, err
	}
	scaledObjects, scaledObjectInformer, startKEDA, err := newScaledObjects(rc, kube.Discovery(), cfg.Namespace)
	if err != nil {
		return nil, err
	}
	workload, err := canary.NewDeployments(canary.Config{
		KubeClient:            kube,
		Deployments:           kubeFactory.Apps().V1().Deployments().Lister(),
		DaemonSets:            kubeFactory.Apps().V1().DaemonSets().Lister(),
		HPAs:                  kubeFactory.Autoscaling().V2().HorizontalPodAutoscalers().Lister(),
		ScaledObjects:         scaledObjects,
		ConfigMaps:            kubeFactory.Core().V1().ConfigMaps().Lister(),
		Secrets:               secrets,
		SelectorLabels:        cfg.SelectorLabels,
		IncludeLabelPrefix:    cfg.IncludeLabelPrefix,
		DisableConfigTracking: cfg.DisableConfigTracking,
		Clock:                 cfg.Clock,
	})
	if err != nil {
		return nil, err
	}
	alerts, err := notifier.NewDispatcher(notifier.DispatcherConfig{
		AlertProviders: flaggerFactory.Flagger().V1beta1().AlertProviders().Lister(),
		Secrets:        secrets,
		Global:         cfg.Alerts,
		ClusterName:    cfg.ClusterName,
		// The same refusal at delivery, so that no path reads another
		// namespace's provider.
		NoCrossNamespaceRefs: cfg.NoCrossNamespaceRefs,
		Notifier:             notifier.Config{Egress: cfg.Egress},
	})
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	releases := telemetry.NewReleases(flaggerFactory.Flagger().V1beta1().Canaries().Lister())
	plugins := controller.Plugins{
		Alerts:       alerts,
		Releases:     releases,
		Workload:     workload,
		Baselines:    workload.Baselines(kubeFactory.Core().V1().Services().Lister()),
		Services:     router.NewKubernetesRouter(kube, kubeFactory.Core().V1().Services().Lister()),
		Routers:      routers,
		Metrics:      metrics.NewProviderCache(metrics.DefaultCacheSize).WithCluster(cfg.REST),
		Webhooks:     webhook.NewCaller(webhook.Config{Egress: cfg.Egress}),
		Secrets:      secrets,
		EventWebhook: cfg.EventWebhook,
	}
	for _, inf := range routeInformers {
		plugins.Synced = append(plugins.Synced, inf.HasSynced)
	}

	recorder := events.New(ctx, events.Config{
		Client:     kube,
		Scheme:     scheme.Scheme,
		Component:  EventComponent,
		Correlator: controller.EventCorrelatorOptions(),
		Logger:     cfg.Logger,
	})

	ctrl, err := controller.New(controller.Config{
		KubeClient:       kube,
		FlaggerClient:    flagger,
		KubeInformers:    kubeFactory,
		FlaggerInformers: flaggerFactory,
		RouteInformers:   routeInformers,
		SecretInformer:   secretInformer,
		Plugins:          plugins,
		Recorder:         recorder,
		Logger:           cfg.Logger,
		Clock:            cfg.Clock,
		MeshProvider:     cfg.MeshProvider,
		MetricsServer:    cfg.MetricsServer,
		SchedulerTick:    cfg.SchedulerTick,

		NoCrossNamespaceRefs: cfg.NoCrossNamespaceRefs,
		ScaledObjectInformer: scaledObjectInformer,
	})
	if err != nil {
		recorder.Shutdown()
		return nil, err
	}
	start := []func(<-chan struct{}){kubeFactory.Start, flaggerFactory.Start, gatewayFactory.Start, metadataFactory.Start}
	if startKEDA != nil {
		start = append(start, startKEDA)
	}
	return &Operator{
		cfg:        cfg,
		controller: ctrl,
		alerts:     alerts,
		releases:   releases,
		events:     recorder,
		start:      start,
	}, nil
}

func (c Config) withDefaults() Config {
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Logger == nil {
		c.Logger = logrus.NewEntry(logrus.StandardLogger())
	}
	if c.MeshProvider == "" {
		c.MeshProvider = DefaultMeshProvider
	}
	if c.MetricsServer == "" {
		c.MetricsServer = DefaultMetricsServer
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.SchedulerTick == 0 {
		c.SchedulerTick = time.Second
	}
	return c
}

// Run starts the informers (only now: a replica waiting for the leader
// lease watches nothing), waits for their caches, and runs the workers and
// the scheduler until ctx ends or Shutdown is called.
//
// The end of ctx is a hard stop: the syncs in flight are cancelled at once
// (their webhook calls and API requests fail), as close to a kill as an
// in-process stop gets, except that a sync whose route already moved
// still writes its status. Shutdown is the graceful stop.
//
// Run returns once every sync in flight has returned, the informers have
// stopped and the pending Kubernetes Events were posted (or abandoned after
// events.DefaultDrainTimeout): after Run returns the operator makes no
// request. An Operator runs once.
func (o *Operator) Run(ctx context.Context) error {
	defer o.events.Shutdown()
	// The informers stop with Run, also when Shutdown ended it.
	informers, stop := context.WithCancel(ctx)
	defer stop()
	for _, start := range o.start {
		start(informers.Done())
	}
	return o.controller.Run(ctx, o.cfg.Workers)
}

// Shutdown stops Run gracefully, as on SIGTERM: no new sync starts and the
// scheduler stops, while the syncs in flight go on until they return or
// ctx ends; at ctx's end they are cancelled, as by the end of Run's
// context. Shutdown returns when Run has returned: nil if every sync
// finished, ctx's error if some were cut short. Shutdown before Run makes
// Run return at once.
func (o *Operator) Shutdown(ctx context.Context) error {
	return o.controller.Shutdown(ctx)
}

// HasSynced reports whether every informer cache the operator reads from
// has synced; false before Run.
func (o *Operator) HasSynced() bool {
	return o.controller.HasSynced()
}

// Collectors returns the operator's metrics, for the caller's registry:
// the controller's, the alerts', the releases' and the events'.
func (o *Operator) Collectors() []prometheus.Collector {
	var cs []prometheus.Collector
	cs = append(cs, o.controller.Collectors()...)
	cs = append(cs, o.alerts.Collectors()...)
	cs = append(cs, o.releases.Collectors()...)
	cs = append(cs, o.events.Collectors()...)
	return cs
}
