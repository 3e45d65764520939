package v1beta1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// CanaryService defines the Services Serin generates for the target (apex,
// -primary and -canary) and the route in front of them.
type CanaryService struct {
	// Name of the apex Service and of the HTTPRoute; the primary and canary
	// Services are suffixed -primary and -canary. Defaults to the target name.
	// +optional
	Name string `json:"name,omitempty"`

	// Port of the generated Services, also used as the HTTPRoute backend port.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`

	// PortName is the name of the Service port. Defaults to http.
	// +optional
	PortName string `json:"portName,omitempty"`

	// TargetPort is the container port number or name. Defaults to Port.
	// +optional
	TargetPort intstr.IntOrString `json:"targetPort,omitempty"`

	// AppProtocol is the application protocol of the Service port.
	// +optional
	AppProtocol *string `json:"appProtocol,omitempty"`

	// TrafficDistribution is copied to the generated Services.
	// +kubebuilder:validation:Enum=PreferClose;PreferSameZone;PreferSameNode
	// +optional
	TrafficDistribution *string `json:"trafficDistribution,omitempty"`

	// PortDiscovery adds the target's other container ports to the generated
	// Services.
	// +optional
	PortDiscovery bool `json:"portDiscovery,omitempty"`

	// Headless makes the generated Services headless (clusterIP None).
	// +optional
	Headless bool `json:"headless,omitempty"`

	// Timeout of an HTTP request, a Go duration; with the Gateway API it
	// becomes the route rule's timeouts.request.
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	Timeout string `json:"timeout,omitempty"`

	// BackendTimeout is the Gateway API route rule's timeouts.backendRequest,
	// a Go duration.
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	BackendTimeout string `json:"backendTimeout,omitempty"`

	// GatewayRefs are the Gateways (or, for GAMMA, the Services) the generated
	// HTTPRoute attaches to. Required with the Gateway API provider.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	GatewayRefs []gatewayv1.ParentReference `json:"gatewayRefs,omitempty"`

	// Hosts are the hostnames of the generated HTTPRoute (Istio: of the
	// VirtualService).
	// +optional
	Hosts []string `json:"hosts,omitempty"`

	// Gateways are Istio gateway names (istio provider only).
	// +optional
	Gateways []string `json:"gateways,omitempty"`

	// Delegation makes the Istio VirtualService a delegate (istio provider only).
	// +optional
	Delegation bool `json:"delegation,omitempty"`

	// TrafficPolicy is an Istio DestinationRule traffic policy (istio provider
	// only); it is stored as given.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +optional
	TrafficPolicy *apiextensionsv1.JSON `json:"trafficPolicy,omitempty"`

	// Match are the request conditions of the generated route's rules.
	// +optional
	Match []HTTPMatchRequest `json:"match,omitempty"`

	// Rewrite rewrites the request path or authority (a URLRewrite filter with
	// the Gateway API).
	// +optional
	Rewrite *HTTPRewrite `json:"rewrite,omitempty"`

	// Retries is the Istio retry policy (istio provider only).
	// +optional
	Retries *HTTPRetry `json:"retries,omitempty"`

	// Headers are request and response header operations (header modifier
	// filters with the Gateway API).
	// +optional
	Headers *Headers `json:"headers,omitempty"`

	// Mirror are always-on request mirrors added to every route rule.
	// +optional
	Mirror []gatewayv1.HTTPRequestMirrorFilter `json:"mirror,omitempty"`

	// CorsPolicy is the Cross-Origin Resource Sharing policy (a CORS filter
	// with the Gateway API; allowOrigins is Istio only).
	// +optional
	CorsPolicy *CorsPolicy `json:"corsPolicy,omitempty"`

	// MeshName is the App Mesh mesh name (appmesh provider only).
	// +optional
	MeshName string `json:"meshName,omitempty"`

	// Backends are App Mesh virtual node backends (appmesh provider only).
	// +optional
	Backends []string `json:"backends,omitempty"`

	// Apex is metadata for the apex Service; with the Gateway API it is also
	// set on the HTTPRoute.
	// +optional
	Apex *CustomMetadata `json:"apex,omitempty"`

	// Primary is metadata for the primary Service.
	// +optional
	Primary *CustomMetadata `json:"primary,omitempty"`

	// Canary is metadata for the canary Service.
	// +optional
	Canary *CustomMetadata `json:"canary,omitempty"`

	// UnmanagedMetadata lists label and annotation keys of the generated
	// Services that Serin must not touch.
	// +optional
	UnmanagedMetadata *UnmanagedMetadata `json:"unmanagedMetadata,omitempty"`

	// Route sets the kind and name of the generated route and the template
	// it is rendered from (Serin only).
	// +optional
	Route *CanaryRoute `json:"route,omitempty"`
}

// StringMatch matches a string exactly, by prefix, by suffix or by RE2
// regular expression. Set exactly one.
//
// MaxProperties does the job of a one-of rule at no CEL cost: these objects
// appear in unbounded maps and lists, where a CEL rule would exceed the API
// server's cost budget.
//
// +kubebuilder:validation:MaxProperties=1
type StringMatch struct {
	// Exact matches the whole string.
	// +optional
	Exact string `json:"exact,omitempty"`

	// Prefix matches the start of the string.
	// +optional
	Prefix string `json:"prefix,omitempty"`

	// Suffix matches the end of the string.
	// +optional
	Suffix string `json:"suffix,omitempty"`

	// Regex is an RE2 regular expression.
	// +optional
	Regex string `json:"regex,omitempty"`
}

// HTTPMatchRequest is a set of request conditions, all of which must hold.
// It is Istio's HTTPMatchRequest; the Gateway API router maps uri, method,
// headers and queryParams and ignores the rest.
type HTTPMatchRequest struct {
	// Name of the match.
	// +optional
	Name string `json:"name,omitempty"`

	// URI matches the request path.
	// +optional
	URI *StringMatch `json:"uri,omitempty"`

	// Scheme matches the URI scheme.
	// +optional
	Scheme *StringMatch `json:"scheme,omitempty"`

	// Method matches the HTTP method.
	// +optional
	Method *StringMatch `json:"method,omitempty"`

	// Authority matches the HTTP authority.
	// +optional
	Authority *StringMatch `json:"authority,omitempty"`

	// Headers match request headers by name (lower case).
	// +optional
	Headers map[string]StringMatch `json:"headers,omitempty"`

	// Port matches the port being addressed.
	// +optional
	Port uint32 `json:"port,omitempty"`

	// SourceLabels matches the labels of the calling workload (Istio only).
	// +optional
	SourceLabels map[string]string `json:"sourceLabels,omitempty"`

	// Gateways restricts the match to these Istio gateways.
	// +optional
	Gateways []string `json:"gateways,omitempty"`

	// QueryParams match query parameters by name.
	// +optional
	QueryParams map[string]StringMatch `json:"queryParams,omitempty"`

	// IgnoreURICase makes the URI match case-insensitive (Istio only).
	// +optional
	IgnoreURICase bool `json:"ignoreUriCase,omitempty"`

	// WithoutHeaders matches requests that lack these headers (Istio only).
	// +optional
	WithoutHeaders map[string]StringMatch `json:"withoutHeaders,omitempty"`

	// SourceNamespace matches the namespace of the caller (Istio only).
	// +optional
	SourceNamespace string `json:"sourceNamespace,omitempty"`
}

// HTTPRewrite rewrites the path or the authority of a request.
type HTTPRewrite struct {
	// URI replaces the path (or the matched prefix, see Type).
	// +optional
	URI string `json:"uri,omitempty"`

	// Authority replaces the Host/Authority header.
	// +optional
	Authority string `json:"authority,omitempty"`

	// Type is how URI is applied with the Gateway API. Defaults to
	// ReplaceFullPath.
	// +kubebuilder:validation:Enum=ReplaceFullPath;ReplacePrefixMatch
	// +optional
	Type string `json:"type,omitempty"`
}

// HTTPRetry is the Istio retry policy.
type HTTPRetry struct {
	// Attempts is the number of retries.
	// +optional
	Attempts int `json:"attempts,omitempty"`

	// PerTryTimeout is the timeout of each attempt.
	// +optional
	PerTryTimeout string `json:"perTryTimeout,omitempty"`

	// RetryOn lists the conditions that trigger a retry.
	// +optional
	RetryOn string `json:"retryOn,omitempty"`
}

// Headers are operations on request and response headers.
type Headers struct {
	// Request operations apply before forwarding the request.
	// +optional
	Request *HeaderOperations `json:"request,omitempty"`

	// Response operations apply before returning the response.
	// +optional
	Response *HeaderOperations `json:"response,omitempty"`
}

// HeaderOperations sets, adds and removes headers.
type HeaderOperations struct {
	// Set overwrites headers.
	// +optional
	Set map[string]string `json:"set,omitempty"`

	// Add appends headers.
	// +optional
	Add map[string]string `json:"add,omitempty"`

	// Remove deletes headers by name.
	// +optional
	Remove []string `json:"remove,omitempty"`
}

// CorsPolicy is a Cross-Origin Resource Sharing policy.
type CorsPolicy struct {
	// AllowOrigin lists the allowed origins.
	// +optional
	AllowOrigin []string `json:"allowOrigin,omitempty"`

	// AllowOrigins lists allowed origins as string matches (Istio only).
	// +optional
	AllowOrigins []StringMatch `json:"allowOrigins,omitempty"`

	// AllowMethods lists the allowed methods.
	// +optional
	AllowMethods []string `json:"allowMethods,omitempty"`

	// AllowHeaders lists the allowed request headers.
	// +optional
	AllowHeaders []string `json:"allowHeaders,omitempty"`

	// ExposeHeaders lists the headers browsers may read.
	// +optional
	ExposeHeaders []string `json:"exposeHeaders,omitempty"`

	// MaxAge is how long a preflight response may be cached, a Go duration.
	// +optional
	MaxAge string `json:"maxAge,omitempty"`

	// AllowCredentials allows credentialed requests.
	// +optional
	AllowCredentials *bool `json:"allowCredentials,omitempty"`
}
