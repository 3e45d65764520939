package main

import (
	"archive/tar"
	"crypto/x509"
	"debug/elf"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuiltImages is `make image-check`'s second half: it reads the images
// that `make image IMAGE_BUILDER=go` wrote to $SERIN_IMAGES, checks every
// blob against its digest, unpacks the layers into a directory as a
// container runtime would, and runs the programs from there. No container
// engine runs here, so the binaries run as plain processes: the static ones
// directly, the load tester's bash, curl and grep through the image's own
// dynamic loader and libraries, which is what proves the packages are
// complete. As root, the programs also run chrooted into the image as its
// user (chroot_test.go), where a shell pipeline finds its programs on the
// image's PATH as in a container.
func TestBuiltImages(t *testing.T) {
	dir := os.Getenv("SERIN_IMAGES")
	if dir == "" {
		t.Skip("SERIN_IMAGES is not set: run `make image-check`")
	}
	version := os.Getenv("SERIN_IMAGE_VERSION")
	require.NotEmpty(t, version, "SERIN_IMAGE_VERSION: the version make stamped into the binaries")

	tests := []struct {
		image string
		// dynamic are commands run with the image's loader, and a word
		// their output must have.
		dynamic [][]string
		// chrooted runs with the image's files as / (root only).
		chrooted func(t *testing.T, root string, cf *v1.ConfigFile)
	}{
		{image: "serin", chrooted: func(t *testing.T, root string, cf *v1.ConfigFile) {
			out, err := inImage(root, cf, "/serin", "-version").CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Equal(t, version, strings.TrimSpace(string(out)))
		}},
		{image: "loadtester", dynamic: [][]string{
			{"bin/bash", "-c", "echo hello from bash", "hello from bash"},
			{"usr/bin/curl", "--version", "curl "},
			{"bin/grep", "--version", "grep (GNU grep)"},
		}, chrooted: loadTesterRunsTheTutorialsSmokeTest},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			root, cf := unpack(t, filepath.Join(dir, tt.image), "/"+tt.image)

			bundle, err := os.ReadFile(filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"))
			require.NoError(t, err)
			assert.Greater(t, countCerts(t, bundle), 100, "the CA bundle has too few certificates")

			out, err := exec.Command(filepath.Join(root, tt.image), "-version").CombinedOutput()
			require.NoError(t, err, "%s -version: %s", tt.image, out)
			assert.Equal(t, version, strings.TrimSpace(string(out)))

			for _, c := range tt.dynamic {
				prog := filepath.Join(root, c[0])
				args := append([]string{"--library-path", libraryPath(t, root), prog}, c[1:len(c)-1]...)
				out, err := exec.Command(loader(t, root, prog), args...).CombinedOutput()
				require.NoError(t, err, "%s: %s", c[0], out)
				assert.Contains(t, string(out), c[len(c)-1])
			}
			if tt.chrooted != nil {
				if os.Geteuid() != 0 {
					t.Log("not root: the runs inside the image's root (chroot) are skipped")
					return
				}
				devNull(t, root)
				tt.chrooted(t, root, cf)
			}
		})
	}
}

// unpack validates the one image of an OCI layout, checks the config the
// Dockerfiles would give it and returns a directory with its files.
func unpack(t *testing.T, layoutDir, entrypoint string) (string, *v1.ConfigFile) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(layoutDir)
	require.NoError(t, err)
	m, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, m.Manifests, 1)
	img, err := idx.Image(m.Manifests[0].Digest)
	require.NoError(t, err)
	require.NoError(t, validate.Image(img), "blobs that do not match their digests")

	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "65532:65532", cf.Config.User)
	assert.Equal(t, []string{entrypoint}, cf.Config.Entrypoint)

	root := t.TempDir()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.True(t, filepath.IsLocal(h.Name), "entry %s leaves the root", h.Name)
		p := filepath.Join(root, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(p, 0o755))
			require.NoError(t, os.Chmod(p, fileMode(h.Mode)))
		case tar.TypeReg:
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fileMode(h.Mode))
			require.NoError(t, err)
			_, err = io.Copy(f, tr)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		case tar.TypeSymlink:
			require.NoError(t, os.Symlink(h.Linkname, p))
		case tar.TypeLink:
			require.NoError(t, os.Link(filepath.Join(root, h.Linkname), p))
		default:
			t.Fatalf("%s: unexpected entry type %q", h.Name, h.Typeflag)
		}
		if os.Geteuid() == 0 {
			require.NoError(t, os.Lchown(p, h.Uid, h.Gid))
		}
	}
	// The root of the image is /, which every user may enter.
	require.NoError(t, os.Chmod(root, 0o755))
	return root, cf
}

// fileMode converts a tar mode, sticky and setuid bits included.
func fileMode(m int64) os.FileMode {
	mode := os.FileMode(m).Perm()
	for bit, fm := range map[int64]os.FileMode{0o4000: os.ModeSetuid, 0o2000: os.ModeSetgid, 0o1000: os.ModeSticky} {
		if m&bit != 0 {
			mode |= fm
		}
	}
	return mode
}

// libraryPath lists the image's library directories for its loader; the
// image's absolute symlinks (lib64/ld-linux...) would otherwise resolve
// into this machine's /lib.
func libraryPath(t *testing.T, root string) string {
	t.Helper()
	var dirs []string
	for _, d := range []string{"lib", "usr/lib"} {
		matches, err := filepath.Glob(filepath.Join(root, d, "*-linux-gnu"))
		require.NoError(t, err)
		dirs = append(dirs, matches...)
	}
	require.NotEmpty(t, dirs, "no lib/*-linux-gnu directory in the image")
	return strings.Join(dirs, ":")
}

// loader returns the image's copy of the program's interpreter. Debian's
// lib64/ld-linux-x86-64.so.2 is an absolute symlink, which outside a chroot
// would name this machine's loader, so links are followed inside root.
func loader(t *testing.T, root, prog string) string {
	t.Helper()
	e, err := elf.Open(prog)
	require.NoError(t, err)
	defer e.Close()
	p := interpreter(e)
	require.NotEmpty(t, p, "%s has no interpreter", prog)
	for range 10 {
		target, err := os.Readlink(filepath.Join(root, p))
		if err != nil {
			require.NoError(t, fileExists(filepath.Join(root, p)))
			return filepath.Join(root, p)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join("/", filepath.Dir(p), target)
		}
		p = target
	}
	t.Fatalf("%s: too many symlinks", prog)
	return ""
}

func fileExists(p string) error {
	_, err := os.Stat(p)
	return err
}

// countCerts parses every certificate of a PEM bundle.
func countCerts(t *testing.T, b []byte) int {
	t.Helper()
	n := 0
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return n
		}
		_, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err, "certificate %d of the bundle", n+1)
		n++
	}
}
