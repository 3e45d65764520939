package controller

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/pkg/syncerr"
	"github.com/serin-dev/serin/pkg/webhook"
)

// Plugins are the implementations the controller drives, each seen through
// the small interface the controller declares for what it uses. cmd/serin
// (through pkg/operator) builds them explicitly; tests build them over fake
// clients, or replace one with a fake.
type Plugins struct {
	// Workload manages the target and primary Deployments.
	Workload Workload
	// Baselines manages the judge's baselines (analysis.judge.baseline);
	// nil refuses canaries that ask for one.
	Baselines Baselines
	// Services manages the apex, primary and canary Services.
	Services router.ServiceRouter
	// Routers are the mesh routers by provider name.
	Routers map[string]router.Interface
	// Metrics builds (and caches) metrics providers.
	Metrics MetricProviders
	// Webhooks calls the canaries' webhooks.
	Webhooks Webhooks
	// Secrets reads the credentials of MetricTemplates.
	Secrets canary.SecretGetter
	// Alerts delivers the canaries' alerts.
	Alerts Alerts
	// Releases records Flagger's release metrics.
	Releases ReleaseRecorder
	// EventWebhook receives every event of canaries without event hooks.
	EventWebhook string
	// Synced are the informers the plugins read from; Run waits for them.
	Synced []cache.InformerSynced
}

// Workload is what the controller asks of a workload implementation
// (pkg/canary): observe reads through workloadObserver, the applier writes
// through workloadWriter.
type Workload interface {
	workloadObserver
	workloadWriter
}

// workloadObserver is what observe and becameReady read; every method reads
// from listers.
type workloadObserver interface {
	Revision(ctx context.Context, cd *flaggerv1.Canary) (canary.Revision, error)
	IsPrimaryReady(ctx context.Context, cd *flaggerv1.Canary) error
	IsCanaryReady(ctx context.Context, cd *flaggerv1.Canary) error
	PrimaryRevision(cd *flaggerv1.Canary) string
}

// workloadWriter is what the applier changes.
type workloadWriter interface {
	GetMetadata(ctx context.Context, cd *flaggerv1.Canary) (canary.Metadata, error)
	EnsurePrimary(ctx context.Context, cd *flaggerv1.Canary) (bool, error)
	ReconcilePrimaryHPA(ctx context.Context, cd *flaggerv1.Canary, update bool) error
	ScaleToZero(ctx context.Context, cd *flaggerv1.Canary) error
	ScaleFromZero(ctx context.Context, cd *flaggerv1.Canary) error
	Promote(ctx context.Context, cd *flaggerv1.Canary, revision string) error
	Finalize(ctx context.Context, cd *flaggerv1.Canary) error
	TargetOwner(cd *flaggerv1.Canary) (metav1.OwnerReference, error)
	RewriteOwners(ctx context.Context, cd *flaggerv1.Canary, rw owners.Rewrite) error
}

// targetScalers is the optional capability of a workload to pause the
// target's autoscaler while the canary is idle and resume it for a run
// (pkg/canary: KEDA ScaledObjects; a HorizontalPodAutoscaler of a
// Deployment scaled to zero does nothing by itself). A workload without it
// has nothing to pause.
type targetScalers interface {
	PauseTargetScaler(ctx context.Context, cd *flaggerv1.Canary) error
	ResumeTargetScaler(ctx context.Context, cd *flaggerv1.Canary) error
}

var _ targetScalers = (*canary.Deployments)(nil)

// MetricProviders returns the provider for a configuration (pkg/metrics'
// ProviderCache keeps one per configuration).
type MetricProviders interface {
	Provider(cfg metrics.ProviderConfig) (metrics.Provider, error)
}

// Webhooks calls webhooks (pkg/webhook's Caller).
type Webhooks interface {
	Call(ctx context.Context, hook flaggerv1.CanaryWebhook, payload webhook.Payload) error
	// Budget is the longest a call of hook may take, retries included.
	Budget(hook flaggerv1.CanaryWebhook) time.Duration
}

// Alerts delivers a canary's alerts (pkg/notifier's Dispatcher).
type Alerts interface {
	Send(ctx context.Context, cd *flaggerv1.Canary, alert analysis.Alert) error
}

// ReleaseRecorder records Flagger's release metrics (pkg/telemetry).
type ReleaseRecorder interface {
	ObserveDuration(cd *flaggerv1.Canary, d time.Duration)
	ObserveTransition(cd *flaggerv1.Canary, before, after flaggerv1.CanaryStatus)
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
	return nil, syncerr.Permanent(fmt.Errorf("spec.provider %q is not supported by Serin: use %s", provider,
		strings.Join(router.Providers, " or ")))
}

// Baselines is what the controller asks of the judge's baselines
// (pkg/canary): observe reads through BaselineReady and BaselineLeft, the
// applier writes through the others.
type Baselines interface {
	// EnsureBaseline creates or corrects the baseline; a baseline rolling
	// out is a *canary.NotReadyError, not a failure.
	EnsureBaseline(ctx context.Context, cd *flaggerv1.Canary) error
	// RemoveBaseline removes the baseline's pods (and its Service once the
	// route no longer refers to it).
	RemoveBaseline(ctx context.Context, cd *flaggerv1.Canary) error
	// BaselineReady is nil when the route may send the baseline traffic.
	BaselineReady(cd *flaggerv1.Canary) error
	// BaselineLeft reports whether RemoveBaseline has work to do.
	BaselineLeft(cd *flaggerv1.Canary) bool
}
