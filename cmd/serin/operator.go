package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
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
	"github.com/serin-dev/serin/pkg/operatormetrics"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/pkg/webhook"
)

// eventComponent is the source of the operator's events. It is Flagger's,
// so that event filters and alert rules written for Flagger keep matching.
const eventComponent = "flagger"

// operator is everything wired from the flags.
type operator struct {
	kube       kubernetes.Interface
	controller *controller.Controller
	alerts     *notifier.Dispatcher
	recorder   *operatormetrics.Recorder
	start      []func(<-chan struct{})
	events     *events.Recorder
}

func newOperator(ctx context.Context, log *logrus.Entry, opts *options) (*operator, error) {
	cfg, err := clientcmd.BuildConfigFromFlags(opts.master, opts.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(opts.qps), opts.burst
	cfg.UserAgent = rest.DefaultKubernetesUserAgent() + " serin"
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	flagger, err := clientset.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	gateway, err := gatewayclient.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}

	kubeFactory := kubeinformers.NewSharedInformerFactoryWithOptions(kube, 0, kubeinformers.WithNamespace(opts.namespace),
		kubeinformers.WithTransform(stripManagedFields))
	flaggerFactory := informers.NewSharedInformerFactoryWithOptions(flagger, 0, informers.WithNamespace(opts.namespace),
		informers.WithTransform(stripManagedFields))
	gatewayFactory := gatewayinformers.NewSharedInformerFactoryWithOptions(gateway, 0, gatewayinformers.WithNamespace(opts.namespace),
		gatewayinformers.WithTransform(stripManagedFields))

	routers, routeInformers, err := newRouters(kube, gateway, gatewayFactory, opts.meshProvider)
	if err != nil {
		return nil, err
	}
	workload, err := canary.NewDeploymentController(canary.Config{
		KubeClient:            kube,
		Deployments:           kubeFactory.Apps().V1().Deployments().Lister(),
		HPAs:                  kubeFactory.Autoscaling().V2().HorizontalPodAutoscalers().Lister(),
		ConfigMaps:            kubeFactory.Core().V1().ConfigMaps().Lister(),
		Secrets:               kubeFactory.Core().V1().Secrets().Lister(),
		SelectorLabels:        opts.labels(),
		DisableConfigTracking: !opts.enableConfigTracking,
	})
	if err != nil {
		return nil, err
	}
	global := notifier.GlobalConfig{SlackURL: opts.slackURL, SlackToken: opts.slackToken, SlackChannel: opts.slackChannel,
		SlackUser: opts.slackUser, SlackProxy: opts.slackProxyURL, MSTeamsURL: opts.msteamsURL, MSTeamsProxy: opts.msteamsProxyURL}
	global.FillFromEnv(os.Getenv)
	alerts, err := notifier.NewDispatcher(notifier.DispatcherConfig{
		AlertProviders: flaggerFactory.Flagger().V1beta1().AlertProviders().Lister(),
		Secrets:        kubeFactory.Core().V1().Secrets().Lister(),
		Global:         global,
		ClusterName:    opts.clusterName,
	})
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	releases := operatormetrics.NewRecorder(flaggerFactory.Flagger().V1beta1().Canaries().Lister())
	plugins := controller.Plugins{
		Alerts:       alerts,
		Recorder:     releases,
		Workload:     workload,
		Services:     router.NewKubernetesRouter(kube, kubeFactory.Core().V1().Services().Lister()),
		Routers:      routers,
		Metrics:      metrics.NewProviderCache(metrics.DefaultCacheSize),
		Webhooks:     webhook.NewCaller(webhook.Config{}),
		Secrets:      kubeFactory.Core().V1().Secrets().Lister(),
		EventWebhook: opts.eventWebhook,
	}
	for _, inf := range routeInformers {
		plugins.Synced = append(plugins.Synced, inf.HasSynced)
	}

	recorder := events.New(ctx, events.Config{
		Client:     kube,
		Scheme:     scheme.Scheme,
		Component:  eventComponent,
		Correlator: controller.EventCorrelatorOptions(),
		Logger:     log,
	})

	ctrl, err := controller.New(controller.Config{
		KubeClient:       kube,
		FlaggerClient:    flagger,
		KubeInformers:    kubeFactory,
		FlaggerInformers: flaggerFactory,
		RouteInformers:   routeInformers,
		Plugins:          plugins,
		Recorder:         recorder,
		Logger:           log,
		MeshProvider:     opts.meshProvider,
		MetricsServer:    opts.metricsServer,
		SchedulerTick:    opts.schedulerTick,
	})
	if err != nil {
		return nil, err
	}
	return &operator{
		kube:       kube,
		controller: ctrl,
		alerts:     alerts,
		recorder:   releases,
		events:     recorder,
		start:      []func(<-chan struct{}){kubeFactory.Start, flaggerFactory.Start, gatewayFactory.Start},
	}, nil
}

// run starts the informers (only now: a follower watches nothing) and the
// controller.
func (o *operator) run(ctx context.Context, workers int, ready *atomic.Bool) error {
	defer o.events.Shutdown()
	for _, start := range o.start {
		start(ctx.Done())
	}
	go func() {
		// Ready once the caches are warm; Run returns only at shutdown.
		for !o.controller.HasSynced() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		ready.Store(true)
	}()
	return o.controller.Run(ctx, workers)
}

// newRouters builds the Gateway API routers for the HTTPRoute versions the
// cluster serves. The version of -mesh-provider must be served; a canary's
// spec.provider may pick the other one if it is served too.
func newRouters(kube kubernetes.Interface, gateway gatewayclient.Interface, factory gatewayinformers.SharedInformerFactory,
	meshProvider string) (map[string]router.Interface, []cache.SharedIndexInformer, error) {
	served := func(groupVersion string) bool {
		list, err := kube.Discovery().ServerResourcesForGroupVersion(groupVersion)
		if err != nil {
			return false
		}
		for _, r := range list.APIResources {
			if r.Name == "httproutes" {
				return true
			}
		}
		return false
	}
	cfg := router.Config{GatewayClient: gateway}
	var informers []cache.SharedIndexInformer
	providers := map[string]string{}
	if served("gateway.networking.k8s.io/v1") {
		cfg.HTTPRouteListerV1 = factory.Gateway().V1().HTTPRoutes().Lister()
		informers = append(informers, factory.Gateway().V1().HTTPRoutes().Informer())
		providers[router.ProviderGatewayAPIV1] = router.ProviderGatewayAPIV1
		providers[router.ProviderGatewayAPI] = router.ProviderGatewayAPIV1
	}
	if served("gateway.networking.k8s.io/v1beta1") {
		cfg.HTTPRouteListerV1beta1 = factory.Gateway().V1beta1().HTTPRoutes().Lister()
		informers = append(informers, factory.Gateway().V1beta1().HTTPRoutes().Informer())
		providers[router.ProviderGatewayAPIV1beta1] = router.ProviderGatewayAPIV1beta1
	}
	if _, ok := providers[meshProvider]; !ok {
		return nil, nil, fmt.Errorf("-mesh-provider %s: the cluster does not serve HTTPRoutes of that version (are the Gateway API CRDs installed?)", meshProvider)
	}
	routers := map[string]router.Interface{}
	for name, provider := range providers {
		rt, err := router.New(provider, cfg)
		if err != nil {
			return nil, nil, err
		}
		routers[name] = rt
	}
	return routers, informers, nil
}
