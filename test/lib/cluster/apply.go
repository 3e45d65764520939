package cluster

import (
	"context"

	"k8s.io/client-go/rest"
)

// Install installs manifests through cfg into a running cluster as Options.CRDPaths does at
// start: the CustomResourceDefinitions first, waited for until they are Established and served,
// then the other objects in order. It lets one test bring the CRDs of a third-party API (Keptn's,
// for instance) without every test of its package paying for them. CRDs that exist already are
// an error, as at start.
func Install(ctx context.Context, cfg *rest.Config, paths ...string) error {
	objs, err := readManifests(paths)
	if err != nil {
		return err
	}
	return objs.install(ctx, cfg, setupTimeout)
}
