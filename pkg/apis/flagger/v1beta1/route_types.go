package v1beta1

// RouteKind is the kind of the route Serin renders for a canary.
// +kubebuilder:validation:Enum=HTTPRoute;GRPCRoute
type RouteKind string

const (
	// HTTPRouteKind is the default: a Gateway API HTTPRoute.
	HTTPRouteKind RouteKind = "HTTPRoute"
	// GRPCRouteKind is a Gateway API GRPCRoute (gatewayapi:v1 only).
	GRPCRouteKind RouteKind = "GRPCRoute"
)

// CanaryRoute says which route Serin renders in front of the primary and
// canary Services, under which name, and from which template. Serin only;
// Flagger ignores it and always generates an HTTPRoute named after the
// service.
//
// +kubebuilder:validation:XValidation:rule="!has(self.templateRef) || !has(self.name) || self.name != self.templateRef.name",message="route.name must differ from route.templateRef.name: Serin never writes the template",fieldPath=".name",reason="FieldValueInvalid"
type CanaryRoute struct {
	// Kind of the route: HTTPRoute (the default) or GRPCRoute. GRPCRoute
	// needs the gatewayapi:v1 provider.
	// +optional
	Kind RouteKind `json:"kind,omitempty"`

	// Name of the route Serin writes. Defaults to the service name. A route
	// of that name that Serin does not own is never overwritten: the canary
	// reports it and waits.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Name string `json:"name,omitempty"`

	// TemplateRef names a route of the same kind, in the canary's namespace,
	// that Serin renders the live route from: its rules, matches, filters,
	// timeouts, hostnames and extra backends are kept, and each backendRef
	// to the apex Service becomes the weighted primary and canary pair.
	// Serin reads the template and never writes it, so a GitOps tool can own
	// it without ever seeing a diff. The template should have no parentRefs
	// (or parentRefs that attach nowhere): the live route takes its parents
	// from gatewayRefs.
	// +optional
	TemplateRef *LocalObjectReference `json:"templateRef,omitempty"`
}
