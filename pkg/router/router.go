package router

import (
	"context"
	"errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// Routes is the traffic split of a canary's route.
type Routes struct {
	// Primary is the weight of the primary backend, 0 to 100.
	Primary int
	// Canary is the weight of the canary backend, 0 to 100.
	Canary int
	// Baseline is the weight of the baseline backend, the Service
	// "<svc>-baseline" on the service port (see BaselineServiceName), 0 to
	// 100. The weighted rule carries that backend whenever Baseline > 0 or
	// the analysis runs a judge baseline, at weight 0 between runs, so that
	// the shape of the route does not change when a run starts or ends.
	Baseline int
	// Mirrored reports (or requests) a copy of the primary's traffic being
	// sent to the canary.
	Mirrored bool
}

// Interface is a mesh router: it owns the route object that splits traffic
// between the primary and canary Services.
type Interface interface {
	// Reconcile creates the route or corrects drift from the Canary's spec.
	// It keeps the live weights and mirror: it never moves traffic. Of the
	// target it needs the owner reference only.
	Reconcile(ctx context.Context, cd *flaggerv1.Canary, target Target) error

	// GetRoutes reads the current traffic split back from the live route.
	// It fails with a *RouteNotAcceptedError (matching ErrRouteNotAccepted)
	// while a parent has not accepted the route's current generation.
	GetRoutes(ctx context.Context, cd *flaggerv1.Canary) (Routes, error)

	// SetRoutes applies a traffic split, writing only if the route changes.
	SetRoutes(ctx context.Context, cd *flaggerv1.Canary, routes Routes) error

	// Finalize reverts the router's changes when the Canary is deleted.
	Finalize(ctx context.Context, cd *flaggerv1.Canary) error

	// RewriteOwners applies rw to the owner references of the route, if
	// the Canary controls it (see pkg/owners).
	RewriteOwners(ctx context.Context, cd *flaggerv1.Canary, rw owners.Rewrite) error
}

// Target describes the pods behind a canary, as found on its workload.
type Target struct {
	// SelectorLabel is the key of the workload's selector label, e.g. "app".
	SelectorLabel string
	// SelectorValue is the value of that label on the target (canary) pods,
	// e.g. "podinfo"; the primary pods carry "<value>-primary".
	SelectorValue string
	// Ports are the workload's other container ports by port name; they are
	// added to the Services when spec.service.portDiscovery is set.
	Ports map[string]int32
	// Owner is the workload's owner reference (owners.Target). Every object
	// the routers create for the canary carries it besides the controller
	// reference to the Canary, so that deleting the Canary alone leaves
	// them serving the primary.
	Owner metav1.OwnerReference
}

// ServiceRouter owns the Kubernetes Services of a canary: the apex
// "<svc>", "<svc>-primary" and "<svc>-canary".
type ServiceRouter interface {
	// Initialize creates or updates the primary and canary Services.
	Initialize(ctx context.Context, cd *flaggerv1.Canary, target Target) error

	// Reconcile creates or updates the apex Service, which selects the
	// primary pods. An existing apex Service is adopted.
	Reconcile(ctx context.Context, cd *flaggerv1.Canary, target Target) error

	// Finalize points an adopted apex Service back at the target pods.
	Finalize(ctx context.Context, cd *flaggerv1.Canary, target Target) error

	// RewriteOwners applies rw to the owner references of the Services the
	// Canary controls (see pkg/owners); adopted ones are not its.
	RewriteOwners(ctx context.Context, cd *flaggerv1.Canary, rw owners.Rewrite) error
}

// validOwner checks that the target's owner reference is known: an owner
// reference without a UID is refused by the API server.
func validOwner(t Target) error {
	if t.Owner.Name == "" || t.Owner.UID == "" {
		return errors.New("target owner reference (name and UID) is required")
	}
	return nil
}

// ptrTo returns a pointer to a copy of v.
func ptrTo[T any](v T) *T { return &v }
