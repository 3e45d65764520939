// Package manifest reads Kubernetes objects from streams of YAML or JSON documents: the manifest
// files and the kustomize output that Serin's tests and demo apply or inspect. It only decodes;
// applying the objects is left to the caller's client.
package manifest
