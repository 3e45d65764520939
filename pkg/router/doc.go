// Package router owns the objects that carry a canary's traffic: the
// Kubernetes Services in front of the primary and canary workloads
// (KubernetesRouter) and the Gateway API route that splits traffic between
// them (GatewayAPIRouter, one implementation for the
// gateway.networking.k8s.io v1 and v1beta1 APIs): an HTTPRoute or a
// GRPCRoute, generated from the Canary or rendered from a route template
// that the router reads and never writes.
//
// Every router follows the same shape: read the live object from a lister,
// build the desired object with a pure function, compare the two
// semantically (ignoring what the API server defaults) and write only when
// they differ. Nothing here logs, records events or decides on retries;
// routers return errors, typed where the caller must tell them apart.
package router
