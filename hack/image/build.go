package main

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// spec is everything an image is made of; equal specs over equal files give
// equal digests.
type spec struct {
	Binary  string
	Tag     string
	CACerts string
	Debs    []string
	// Symlinks go with the packages: bash as /bin/sh, as the load
	// tester's "cmd" tasks run sh -c and Debian's sh (dash) would bring
	// dpkg along.
	Symlinks map[string]string
	User     string
	Labels   map[string]string
	Epoch    time.Time
}

// layerSpec is one layer to be: its files and its line in the history.
type layerSpec struct {
	files []file
	what  string
}

// createdBy names this tool in the image history, where a Dockerfile's
// instructions would be.
const createdBy = "serin hack/image"

// build assembles the image: the base files, the packages if any, then the
// binary, each its own layer so that the two images share the base and a
// new release only ships a new top layer.
func build(s spec) (v1.Image, error) {
	bin, err := os.ReadFile(s.Binary)
	if err != nil {
		return nil, fmt.Errorf("-binary: %w", err)
	}
	arch, err := binaryArch(s.Binary, bin)
	if err != nil {
		return nil, err
	}
	base, err := baseFiles(s.CACerts)
	if err != nil {
		return nil, err
	}
	adds := []layerSpec{{base, "base files: /etc/passwd, /etc/group, CA certificates, /tmp, /home/nonroot"}}
	if len(s.Debs) > 0 || len(s.Symlinks) > 0 {
		var pkgs []file
		var names []string
		for name, target := range s.Symlinks {
			pkgs = append(pkgs, file{name: name, typeflag: tar.TypeSymlink, mode: 0o777, link: target, origin: "-symlink"})
			names = append(names, name+"->"+target)
		}
		for _, d := range s.Debs {
			fs, err := debFiles(d)
			if err != nil {
				return nil, err
			}
			pkgs = append(pkgs, fs...)
			names = append(names, filepath.Base(d))
		}
		// Sorted, so that the order of the flags does not show.
		sort.Strings(names)
		if err := checkLinked(append(pkgs, base...), arch); err != nil {
			return nil, err
		}
		adds = append(adds, layerSpec{pkgs, "packages: " + strings.Join(names, " ")})
	}
	entry := "/" + filepath.Base(s.Binary)
	adds = append(adds, layerSpec{binaryFiles(entry, bin, s.Binary), "COPY " + filepath.Base(s.Binary) + " " + entry})

	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: arch,
		OS:           "linux",
		Created:      v1.Time{Time: s.Epoch},
		Config:       imageConfig(s, entry),
		RootFS:       v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	for _, a := range adds {
		l, err := newLayer(a.files, s.Epoch)
		if err != nil {
			return nil, err
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:     l,
			MediaType: types.OCILayer,
			History:   v1.History{Created: v1.Time{Time: s.Epoch}, CreatedBy: createdBy + ": " + a.what},
		})
		if err != nil {
			return nil, err
		}
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	return mutate.ConfigMediaType(img, types.OCIConfigJSON), nil
}

// imageConfig is what the Dockerfiles' USER and ENTRYPOINT say, with the
// environment of their base images and the OCI labels.
func imageConfig(s spec, entry string) v1.Config {
	labels := map[string]string{"org.opencontainers.image.created": s.Epoch.Format(time.RFC3339)}
	for k, v := range s.Labels {
		labels[k] = v
	}
	return v1.Config{
		User:       s.User,
		Entrypoint: []string{entry},
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"SSL_CERT_FILE=/" + caBundlePath,
		},
		WorkingDir: "/",
		Labels:     labels,
	}
}

// writeLayout replaces dir with an OCI image layout holding img under the
// name of tag, which `crane push`, skopeo and `podman load` read.
func writeLayout(dir, tag string, img v1.Image) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag,
	}))
}

// writeTarball writes the tarball `docker load` reads (docker save's
// format), tagged with tag.
func writeTarball(file, tag string, img v1.Image) error {
	ref, err := name.ParseReference(tag)
	if err != nil {
		return fmt.Errorf("-tag: %w", err)
	}
	return tarball.WriteToFile(file, ref, img)
}
