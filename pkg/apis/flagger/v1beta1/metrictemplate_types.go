package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"net/http"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=all
// +kubebuilder:printcolumn:name="Provider",type="string",JSONPath=".spec.provider.type"

// MetricTemplate is a reusable metric query that canaries reference from
// analysis.metrics[].templateRef.
type MetricTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the provider and the query.
	Spec MetricTemplateSpec `json:"spec"`

	// Status of the template.
	// +optional
	Status MetricTemplateStatus `json:"status,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true

// MetricTemplateList is a list of MetricTemplate resources.
type MetricTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the metric templates.
	Items []MetricTemplate `json:"items"`
}

// MetricTemplateSpec is a metrics provider and a query for it.
type MetricTemplateSpec struct {
	// Provider is the metrics backend that runs the query.
	Provider MetricTemplateProvider `json:"provider"`

	// Query is a Go text/template rendered for each canary: {{ name }},
	// {{ namespace }}, {{ target }}, {{ service }}, {{ ingress }},
	// {{ route }}, {{ interval }} and {{ variables.<key> }} are available.
	// +kubebuilder:validation:MinLength=1
	Query string `json:"query"`
}

// MetricTemplateProvider is the metrics backend of a MetricTemplate.
type MetricTemplateProvider struct {
	// Type of the provider.
	// +kubebuilder:validation:Enum=prometheus;influxdb;datadog;cloudwatch;newrelic;graphite;dynatrace;stackdriver;keptn;splunk;externalmetrics
	Type string `json:"type"`

	// Address of the provider's API, e.g. http://prometheus.istio-system:9090.
	// +optional
	Address string `json:"address,omitempty"`

	// Headers are sent with every query (e.g. X-Scope-OrgID for Mimir).
	// +optional
	Headers http.Header `json:"headers,omitempty"`

	// SecretRef references a Secret in the template's namespace with the
	// provider's credentials (Prometheus: token, or username and password).
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// Region of the provider (cloudwatch).
	// +optional
	Region string `json:"region,omitempty"`

	// InsecureSkipVerify skips the verification of the provider's TLS
	// certificate.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// MetricTemplateStatus is the observed state of a MetricTemplate.
type MetricTemplateStatus struct {
	// Conditions of the template.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}
