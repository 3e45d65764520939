package main

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inputs writes a static binary and a CA bundle, the files every image is
// made of.
func inputs(t *testing.T) (bin, ca string) {
	t.Helper()
	dir := t.TempDir()
	bin = filepath.Join(dir, "serin")
	ca = filepath.Join(dir, "ca.crt")
	require.NoError(t, os.WriteFile(bin, fakeELF(t, elf.EM_X86_64, ""), 0o755))
	require.NoError(t, os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644))
	return bin, ca
}

// runImage runs the tool and returns the digest it printed and the files it
// wrote.
func runImage(t *testing.T, args ...string) (digest string, out string) {
	t.Helper()
	out = t.TempDir()
	var stdout bytes.Buffer
	require.NoError(t, run(append(args,
		"-out", filepath.Join(out, "layout"),
		"-tarball", filepath.Join(out, "image.tar"),
		"-digest-file", filepath.Join(out, "digest"),
	), &stdout))
	ref, _, _ := strings.Cut(stdout.String(), " ")
	_, digest, _ = strings.Cut(ref, "@")
	return digest, out
}

func TestRunIsReproducible(t *testing.T) {
	bin, ca := inputs(t)
	args := []string{"-binary", bin, "-ca-certs", ca, "-tag", "ghcr.io/serin-dev/serin:v1", "-epoch", "1700000000", "-label", "org.opencontainers.image.version=v1"}
	d1, out1 := runImage(t, args...)
	d2, out2 := runImage(t, args...)
	require.True(t, strings.HasPrefix(d1, "sha256:"), "digest %q", d1)
	assert.Equal(t, d1, d2)
	for _, f := range []string{"image.tar", "digest", "layout/index.json"} {
		a, err := os.ReadFile(filepath.Join(out1, f))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(out2, f))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(a, b), "%s differs between two builds", f)
	}
	written, err := os.ReadFile(filepath.Join(out1, "digest"))
	require.NoError(t, err)
	assert.Equal(t, d1+"\n", string(written))

	// Every input shows in the digest.
	other, _ := inputs(t)
	require.NoError(t, os.WriteFile(other, append(fakeELF(t, elf.EM_X86_64, ""), 0), 0o755))
	changed := map[string][]string{
		"epoch":   {"-epoch", "1700000001"},
		"label":   {"-label", "org.opencontainers.image.version=v2"},
		"user":    {"-user", "1000:1000"},
		"binary":  {"-binary", other},
		"ca-cert": {"-ca-certs", bin},
		"symlink": {"-symlink", "bin/sh=bash"},
	}
	for what, extra := range changed {
		d, _ := runImage(t, append(args, extra...)...)
		assert.NotEqual(t, d1, d, "changing the %s kept the digest", what)
	}
}

func TestRunWritesLoadableImage(t *testing.T) {
	bin, ca := inputs(t)
	digest, out := runImage(t, "-binary", bin, "-ca-certs", ca, "-tag", "ghcr.io/serin-dev/serin:v1", "-epoch", "1700000000",
		"-label", "org.opencontainers.image.source=https://github.com/serin-dev/serin")

	idx, err := layout.ImageIndexFromPath(filepath.Join(out, "layout"))
	require.NoError(t, err)
	require.NoError(t, validate.Index(idx))
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, m.Manifests, 1)
	assert.Equal(t, digest, m.Manifests[0].Digest.String())
	assert.Equal(t, "ghcr.io/serin-dev/serin:v1", m.Manifests[0].Annotations["org.opencontainers.image.ref.name"])

	fromTar, err := tarball.ImageFromPath(filepath.Join(out, "image.tar"), nil)
	require.NoError(t, err)
	// docker save's format keeps no manifest, so the same image shows as
	// the same config (docker's image ID) and layers.
	img, err := layout.Path(filepath.Join(out, "layout")).Image(m.Manifests[0].Digest)
	require.NoError(t, err)
	for _, i := range []v1.Image{img, fromTar} {
		require.NoError(t, validate.Image(i))
	}
	wantID, err := img.ConfigName()
	require.NoError(t, err)
	gotID, err := fromTar.ConfigName()
	require.NoError(t, err)
	assert.Equal(t, wantID, gotID, "the docker tarball holds another image than the layout")

	cf, err := fromTar.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "amd64", cf.Architecture)
	assert.Equal(t, "linux", cf.OS)
	assert.Equal(t, "2023-11-14T22:13:20Z", cf.Created.UTC().Format("2006-01-02T15:04:05Z"))
	assert.Equal(t, "65532:65532", cf.Config.User)
	assert.Equal(t, []string{"/serin"}, cf.Config.Entrypoint)
	assert.Empty(t, cf.Config.Cmd)
	assert.Empty(t, cf.Config.ExposedPorts, "the Dockerfiles expose no port")
	assert.Equal(t, map[string]string{
		"org.opencontainers.image.created": "2023-11-14T22:13:20Z",
		"org.opencontainers.image.source":  "https://github.com/serin-dev/serin",
	}, cf.Config.Labels)
	require.Len(t, cf.History, 2)
	assert.Equal(t, "serin hack/image: COPY serin /serin", cf.History[1].CreatedBy)
	layers, err := fromTar.Layers()
	require.NoError(t, err)
	assert.Len(t, layers, 2, "base files, binary")
}

func TestRunErrors(t *testing.T) {
	bin, ca := inputs(t)
	out := filepath.Join(t.TempDir(), "layout")
	base := []string{"-binary", bin, "-ca-certs", ca, "-tag", "ghcr.io/serin-dev/serin:v1", "-out", out}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no binary", args: []string{"-tag", "x", "-out", out}, wantErr: "-binary, -tag and -out are required"},
		{name: "bad epoch", args: append(base, "-epoch", "yesterday"), wantErr: `-epoch (SOURCE_DATE_EPOCH) "yesterday": want whole seconds since 1970`},
		{name: "negative epoch", args: append(base, "-epoch", "-1"), wantErr: "want whole seconds since 1970"},
		{name: "bad label", args: append(base, "-label", "version"), wantErr: `-label "version": want KEY=VALUE`},
		{name: "missing CA bundle", args: append(base, "-ca-certs", filepath.Join(out, "none")), wantErr: "-ca-certs: open"},
		{name: "empty CA bundle", args: append(base, "-ca-certs", os.DevNull), wantErr: "-ca-certs /dev/null is empty"},
		{name: "bad tag", args: append(base, "-tag", "Not A Ref", "-tarball", filepath.Join(out, "t.tar")), wantErr: "-tag:"},
		{name: "bad symlink", args: append(base, "-symlink", "bin/sh"), wantErr: `-symlink "bin/sh": want KEY=VALUE`},
		{name: "missing deb", args: append(base, "-deb", filepath.Join(out, "x.deb")), wantErr: "-deb: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.args, &bytes.Buffer{})
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
