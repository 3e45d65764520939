package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=all
// +kubebuilder:printcolumn:name="Type",type="string",JSONPath=".spec.type"

// AlertProvider is a chat or webhook destination for the alerts of canaries
// that reference it from analysis.alerts[].providerRef.
type AlertProvider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec describes the destination.
	Spec AlertProviderSpec `json:"spec"`

	// Status of the provider.
	// +optional
	Status AlertProviderStatus `json:"status,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true

// AlertProviderList is a list of AlertProvider resources.
type AlertProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the alert providers.
	Items []AlertProvider `json:"items"`
}

// AlertProviderSpec describes where and how alerts are posted.
//
// +kubebuilder:validation:XValidation:rule="has(self.address) || has(self.secretRef)",message="set spec.address or spec.secretRef"
type AlertProviderSpec struct {
	// Type of the provider: Flagger's slack, msteams, discord, rocket and
	// gchat, or Serin's generic, which POSTs a documented JSON body (see
	// pkg/notifier) for Alertmanager webhooks, PagerDuty bridges and bots.
	// +kubebuilder:validation:Enum=slack;msteams;discord;rocket;gchat;generic
	Type string `json:"type"`

	// Channel to post to. Defaults to general.
	// +optional
	Channel string `json:"channel,omitempty"`

	// Username to post as. Defaults to flagger.
	// +optional
	Username string `json:"username,omitempty"`

	// Address is the webhook URL.
	// +kubebuilder:validation:Pattern=`^https?://`
	// +optional
	Address string `json:"address,omitempty"`

	// Proxy is the URL of an HTTP proxy for the calls.
	// +kubebuilder:validation:Pattern=`^https?://`
	// +optional
	Proxy string `json:"proxy,omitempty"`

	// SecretRef references a Secret in the provider's namespace whose address
	// key holds the webhook URL (and optionally token, a bearer token).
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
}

// AlertProviderStatus is the observed state of an AlertProvider.
type AlertProviderStatus struct {
	// Conditions of the provider.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}
