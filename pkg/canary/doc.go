// Package canary is the workload side of a release: it owns the Deployments,
// DaemonSets, HorizontalPodAutoscalers, KEDA ScaledObjects, ConfigMaps and
// Secrets around a Canary's target.
//
// It discovers the selector label of the target Deployment or DaemonSet,
// bootstraps the <target>-primary of the same kind (and the -primary copies
// of the ConfigMaps and Secrets the target uses, and <hpa>-primary or
// <scaledobject>-primary), pauses the target's ScaledObject while the canary
// is idle, scales the target to and from zero, promotes the target's pod
// template to the primary, reports rollout readiness with errors that say
// whether retrying can help, and identifies a revision of the target by a pod
// template hash and config checksums.
//
// What differs between the two kinds (reading and writing them, building
// the primary, scaling, readiness) is a workloadKind (kind.go); every other
// step is written once. Desired objects are built by pure functions
// (NewPrimaryDeployment, PromotePrimary, NewPrimaryDaemonSet,
// PromotePrimaryDaemonSet, NewPrimaryHPA, NewPrimaryScaledObject,
// PrimaryConfigMap, PrimarySecret, CheckRollout, CheckDaemonSetRollout, ...);
// the Deployments methods read through listers, never mutate what they read,
// and write only when the desired state differs from the observed one. Services and routes are not
// this package's business (see pkg/router).
package canary
