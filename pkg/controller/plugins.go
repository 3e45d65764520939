package controller

import (
	"fmt"

	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/pkg/notifier"
	"github.com/serin-dev/serin/pkg/operatormetrics"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/pkg/syncerr"
	"github.com/serin-dev/serin/pkg/webhook"
)

// Plugins are the implementations the controller drives. cmd/serin builds
// them explicitly; tests build them over fake clients.
type Plugins struct {
	// Workload manages the target and primary Deployments.
	Workload *canary.DeploymentController
	// Services manages the apex, primary and canary Services.
	Services router.ServiceRouter
	// Routers are the mesh routers by provider name.
	Routers map[string]router.Interface
	// Metrics builds (and caches) metrics providers.
	Metrics *metrics.ProviderCache
	// Webhooks calls the canaries' webhooks.
	Webhooks *webhook.Caller
	// Secrets reads the credentials of MetricTemplates.
	Secrets corelisters.SecretLister
	// Alerts delivers the canaries' alerts.
	Alerts *notifier.Dispatcher
	// Recorder records Flagger's release metrics.
	Recorder *operatormetrics.Recorder
	// EventWebhook receives every event of canaries without event hooks.
	EventWebhook string
	// Synced are the informers the plugins read from; Run waits for them.
	Synced []cache.InformerSynced
}

// routerFor returns the router of a canary's provider: spec.provider, else
// the operator's -mesh-provider.
func (c *Controller) routerFor(cd *flaggerv1.Canary) (router.Interface, error) {
	provider := cd.Spec.Provider
	if provider == "" {
		provider = c.cfg.MeshProvider
	}
	if rt, ok := c.cfg.Plugins.Routers[provider]; ok {
		return rt, nil
	}
	return nil, syncerr.Permanent(fmt.Errorf("spec.provider %q is not supported by Serin: use gatewayapi:v1 or gatewayapi:v1beta1", provider))
}
