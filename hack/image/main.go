// Command image builds Serin's container images without a container engine:
// it packs the static binary that `make build` made, a small base (CA
// certificates, /etc/passwd with the nonroot user 65532, /tmp) and, for the
// load tester, the files of Debian packages, into an OCI image layout and a
// tarball that `docker load` and `crane push` take.
//
// The image is a function of its inputs alone: every tar entry has the time
// of -epoch (SOURCE_DATE_EPOCH), fixed owners and modes, and sorted names, so
// the same binary, CA bundle and packages give the same digest on any
// machine. `make image-check` builds each image twice and compares.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

// multiFlag collects a flag given several times.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	var (
		s          spec
		labels     multiFlag
		debs       multiFlag
		symlinks   multiFlag
		out        = fs.String("out", "", "Directory to write the OCI image layout to (replaced if it exists).")
		tarPath    = fs.String("tarball", "", "File to write a tarball for `docker load` to (optional).")
		digestPath = fs.String("digest-file", "", "File to write the image digest to (optional).")
		epoch      = fs.String("epoch", os.Getenv("SOURCE_DATE_EPOCH"), "Time of every file and of the image, in seconds since 1970 (default $SOURCE_DATE_EPOCH, else 0).")
	)
	fs.StringVar(&s.Binary, "binary", "", "The static linux binary to package; it becomes /NAME and the entrypoint.")
	fs.StringVar(&s.Tag, "tag", "", "The image reference recorded in the layout and the tarball, e.g. ghcr.io/serin-dev/serin:v1.")
	fs.StringVar(&s.CACerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle, or Debian ca-certificates .deb, for /etc/ssl/certs/ca-certificates.crt.")
	fs.StringVar(&s.User, "user", "65532:65532", "The user the image runs as (the Dockerfiles' USER).")
	fs.Var(&labels, "label", "KEY=VALUE image label; repeatable.")
	fs.Var(&debs, "deb", "A Debian package whose files go into a layer under the binary; repeatable.")
	fs.Var(&symlinks, "symlink", "PATH=TARGET symlink added with the packages, e.g. bin/sh=bash; repeatable.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s.Binary == "" || s.Tag == "" || *out == "" {
		return fmt.Errorf("-binary, -tag and -out are required")
	}
	t, err := parseEpoch(*epoch)
	if err != nil {
		return err
	}
	s.Epoch = t
	s.Debs = debs
	if s.Symlinks, err = parsePairs("-symlink", symlinks); err != nil {
		return err
	}
	if s.Labels, err = parsePairs("-label", labels); err != nil {
		return err
	}

	img, err := build(s)
	if err != nil {
		return err
	}
	if err := writeLayout(*out, s.Tag, img); err != nil {
		return err
	}
	if *tarPath != "" {
		if err := writeTarball(*tarPath, s.Tag, img); err != nil {
			return err
		}
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	if *digestPath != "" {
		if err := os.WriteFile(*digestPath, []byte(digest.String()+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%s@%s %s\n", s.Tag, digest, filepath.Clean(*out))
	return nil
}

// parseEpoch reads SOURCE_DATE_EPOCH's format: whole seconds since 1970.
// Empty means 0, as in ko, so that an unset variable still builds
// reproducibly.
func parseEpoch(v string) (time.Time, error) {
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("-epoch (SOURCE_DATE_EPOCH) %q: want whole seconds since 1970", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

// parsePairs reads the KEY=VALUE arguments of a repeatable flag.
func parsePairs(flagName string, kvs []string) (map[string]string, error) {
	pairs := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%s %q: want KEY=VALUE", flagName, kv)
		}
		pairs[k] = v
	}
	return pairs, nil
}
