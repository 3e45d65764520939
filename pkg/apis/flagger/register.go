// Package flagger holds the name of the flagger.app API group.
package flagger

// GroupName is the API group of Canary, MetricTemplate and AlertProvider. It is
// Flagger's, so that manifests written for Flagger apply to Serin unchanged.
const GroupName = "flagger.app"
