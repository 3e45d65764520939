package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=all
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.phase"
// +kubebuilder:printcolumn:name="Weight",type="string",JSONPath=".status.canaryWeight"
// +kubebuilder:printcolumn:name="Suspended",type="boolean",JSONPath=".spec.suspend",priority=1
// +kubebuilder:printcolumn:name="FailedChecks",type="string",JSONPath=".status.failedChecks",priority=1
// +kubebuilder:printcolumn:name="Interval",type="string",JSONPath=".spec.analysis.interval",priority=1
// +kubebuilder:printcolumn:name="Mirror",type="boolean",JSONPath=".spec.analysis.mirror",priority=1
// +kubebuilder:printcolumn:name="StepWeight",type="string",JSONPath=".spec.analysis.stepWeight",priority=1
// +kubebuilder:printcolumn:name="StepWeights",type="string",JSONPath=".spec.analysis.stepWeights",priority=1
// +kubebuilder:printcolumn:name="MaxWeight",type="string",JSONPath=".spec.analysis.maxWeight",priority=1
// +kubebuilder:printcolumn:name="LastTransitionTime",type="string",JSONPath=".status.lastTransitionTime"

// Canary is the configuration of a progressive release: it tells Serin which
// workload to watch and how to bootstrap, analyse, shift traffic to, promote or
// roll back each new revision of it.
type Canary struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired behaviour of the canary.
	Spec CanarySpec `json:"spec"`

	// Status is the observed state of the canary analysis.
	// +optional
	Status CanaryStatus `json:"status,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true

// CanaryList is a list of Canary resources.
type CanaryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the canaries.
	Items []Canary `json:"items"`
}

// CanarySpec is the desired behaviour of a Canary.
//
// +kubebuilder:validation:XValidation:rule="!has(self.provider) || !self.provider.startsWith('gatewayapi') || (has(self.service) && has(self.service.gatewayRefs) && size(self.service.gatewayRefs) > 0)",message="spec.service.gatewayRefs: at least one Gateway is required when spec.provider is gatewayapi"
type CanarySpec struct {
	// Provider is the traffic management provider for this canary and
	// overrides the operator's -mesh-provider flag. Serin routes with
	// gatewayapi:v1 and gatewayapi:v1beta1; the other values are accepted for
	// compatibility with Flagger manifests.
	// +kubebuilder:validation:Enum=apisix;appmesh;appmesh:v1beta2;contour;gatewayapi:v1;gatewayapi:v1beta1;gloo;istio;knative;kubernetes;kuma;linkerd;nginx;osm;skipper;smi:v1alpha1;smi:v1alpha2;smi:v1alpha3;traefik
	// +optional
	Provider string `json:"provider,omitempty"`

	// MetricsServer is the address of the Prometheus server used by the
	// builtin metrics and by inline queries; it overrides the operator's
	// -metrics-server flag.
	// +optional
	MetricsServer string `json:"metricsServer,omitempty"`

	// TargetRef references the workload under release.
	TargetRef TargetReference `json:"targetRef"`

	// AutoscalerRef references the autoscaler of the target; Serin creates a
	// copy of it for the primary workload.
	// +optional
	AutoscalerRef *AutoscalerReference `json:"autoscalerRef,omitempty"`

	// IngressRef references an NGINX Ingress (nginx provider only; ignored by
	// the Gateway API router).
	// +optional
	IngressRef *IngressReference `json:"ingressRef,omitempty"`

	// RouteRef references an ApisixRoute (apisix provider only; ignored by the
	// Gateway API router).
	// +optional
	RouteRef *ApisixRouteReference `json:"routeRef,omitempty"`

	// UpstreamRef references a Gloo Upstream (gloo provider only; ignored by
	// the Gateway API router).
	// +optional
	UpstreamRef *UpstreamReference `json:"upstreamRef,omitempty"`

	// Service defines the Kubernetes Services and the route that Serin
	// generates for the target.
	// +optional
	Service CanaryService `json:"service"`

	// Analysis defines how each new revision is validated and how traffic is
	// shifted to it.
	// +kubebuilder:validation:Required
	Analysis *CanaryAnalysis `json:"analysis,omitempty"`

	// CanaryAnalysis is the deprecated name of Analysis, kept so that manifests
	// written for older Flagger versions still apply. Analysis wins when both
	// are set.
	// +optional
	CanaryAnalysis *CanaryAnalysis `json:"canaryAnalysis,omitempty"`

	// ProgressDeadlineSeconds is the maximum time in seconds for the canary or
	// primary workload to make progress before the release is rolled back.
	// Defaults to 600.
	// +kubebuilder:validation:Minimum=1
	// +optional
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`

	// SkipAnalysis promotes every new revision without analysing it.
	// +optional
	SkipAnalysis bool `json:"skipAnalysis,omitempty"`

	// RevertOnDeletion restores the target workload and routing to their
	// original state when the Canary is deleted, which Flagger's finalizer
	// holds meanwhile. Without it the Canary has no finalizer, and deleting it
	// leaves the primary, its Services and the route serving: the target
	// Deployment owns them too, and they go with it.
	// +optional
	RevertOnDeletion bool `json:"revertOnDeletion,omitempty"`

	// Suspend pauses the canary: nothing is reconciled and an in-flight
	// analysis is frozen with its weights as they are.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// TargetReference locates the workload under release.
type TargetReference struct {
	// APIVersion of the target, e.g. apps/v1.
	// +kubebuilder:validation:MinLength=1
	APIVersion string `json:"apiVersion"`

	// Kind of the target. Serin releases Deployments and DaemonSets; Service
	// is accepted for compatibility.
	// +kubebuilder:validation:Enum=DaemonSet;Deployment;Service
	Kind string `json:"kind"`

	// Name of the target, in the Canary's namespace.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// AutoscalerReference locates the autoscaler of the target workload.
type AutoscalerReference struct {
	// APIVersion of the autoscaler, e.g. autoscaling/v2.
	// +kubebuilder:validation:MinLength=1
	APIVersion string `json:"apiVersion"`

	// Kind of the autoscaler.
	// +kubebuilder:validation:Enum=HorizontalPodAutoscaler;ScaledObject
	Kind string `json:"kind"`

	// Name of the autoscaler, in the Canary's namespace.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// PrimaryScalerQueries replaces the queries of a KEDA ScaledObject's
	// triggers for the primary, keyed by trigger name.
	// +optional
	PrimaryScalerQueries map[string]string `json:"primaryScalerQueries,omitempty"`

	// PrimaryScalerReplicas overrides the replica bounds of the primary's
	// autoscaler.
	// +optional
	PrimaryScalerReplicas *ScalerReplicas `json:"primaryScalerReplicas,omitempty"`
}

// ScalerReplicas bounds the replicas of an autoscaler.
//
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas",message="minReplicas must not exceed maxReplicas"
type ScalerReplicas struct {
	// MinReplicas is the lower bound of replicas.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// MaxReplicas is the upper bound of replicas.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxReplicas *int32 `json:"maxReplicas,omitempty"`
}

// IngressReference locates an NGINX Ingress.
type IngressReference struct {
	// APIVersion of the Ingress.
	// +kubebuilder:validation:MinLength=1
	APIVersion string `json:"apiVersion"`

	// Kind must be Ingress.
	// +kubebuilder:validation:Enum=Ingress
	Kind string `json:"kind"`

	// Name of the Ingress.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// ApisixRouteReference locates an APISIX route.
type ApisixRouteReference struct {
	// APIVersion of the route.
	// +kubebuilder:validation:MinLength=1
	APIVersion string `json:"apiVersion"`

	// Kind must be ApisixRoute.
	// +kubebuilder:validation:Enum=ApisixRoute
	Kind string `json:"kind"`

	// Name of the route.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// UpstreamReference locates a Gloo Upstream.
type UpstreamReference struct {
	// APIVersion of the Upstream.
	// +kubebuilder:validation:MinLength=1
	APIVersion string `json:"apiVersion"`

	// Kind must be Upstream.
	// +kubebuilder:validation:Enum=Upstream
	Kind string `json:"kind"`

	// Name of the Upstream.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Namespace of the Upstream.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// LocalObjectReference names an object in a known namespace.
type LocalObjectReference struct {
	// Name of the referent.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// CrossNamespaceObjectReference names an object that may live in another
// namespace; an empty namespace means the referrer's.
type CrossNamespaceObjectReference struct {
	// APIVersion of the referent.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the referent.
	// +optional
	Kind string `json:"kind,omitempty"`

	// Name of the referent.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Namespace of the referent; defaults to the Canary's namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// CustomMetadata holds labels and annotations to set on a generated object.
type CustomMetadata struct {
	// Labels to set.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations to set.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// UnmanagedMetadata lists label and annotation keys on generated Services
// that Serin must leave alone (other controllers own them).
type UnmanagedMetadata struct {
	// Labels are label keys Serin does not remove or change.
	// +optional
	Labels []string `json:"labels,omitempty"`

	// Annotations are annotation keys Serin does not remove or change.
	// +optional
	Annotations []string `json:"annotations,omitempty"`
}
