// Package v1beta1 defines the flagger.app/v1beta1 API served by Serin: Canary,
// MetricTemplate and AlertProvider. The types mirror Flagger's schema field for
// field, so that any valid Flagger manifest round-trips without losing a field.
// Fields that only other meshes use are kept and ignored by the Gateway API
// router; Gateway API fields are first-class.
//
// +k8s:deepcopy-gen=package
// +groupName=flagger.app
package v1beta1
