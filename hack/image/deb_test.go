package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// tarOf writes headers (with the bodies given by name) as dpkg-deb does:
// entries named ./path.
func tarOf(t *testing.T, hs []*tar.Header, bodies map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hs {
		h.Size = int64(len(bodies[h.Name]))
		require.NoError(t, tw.WriteHeader(h))
		_, err := tw.Write([]byte(bodies[h.Name]))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// compressed compresses b as the member name's extension says.
func compressed(t *testing.T, name string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch filepath.Ext(name) {
	case ".xz":
		w, err := xz.NewWriter(&buf)
		require.NoError(t, err)
		_, err = w.Write(b)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	case ".gz":
		w := gzip.NewWriter(&buf)
		_, err := w.Write(b)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	case ".zst":
		w, err := zstd.NewWriter(&buf)
		require.NoError(t, err)
		_, err = w.Write(b)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	default:
		return b
	}
	return buf.Bytes()
}

// arOf writes an ar archive with the members in order, as a .deb is laid
// out (odd sizes padded to even).
func arOf(members ...[2]string) []byte {
	var buf bytes.Buffer
	buf.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&buf, "%-16s%-12s%-6s%-6s%-8s%-10d`\n", m[0], "0", "0", "0", "100644", len(m[1]))
		buf.WriteString(m[1])
		if len(m[1])%2 == 1 {
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes()
}

const curlControl = "Package: curl\nVersion: 7.88.1-10+deb12u15\nArchitecture: amd64\n"

// writeDeb writes a package with a directory, a program, a symlink and a
// hard link, its data member compressed as dataName says.
func writeDeb(t *testing.T, dataName, control string) string {
	t.Helper()
	data := tarOf(t, []*tar.Header{
		{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/bin/curl", Typeflag: tar.TypeReg, Mode: 0o100755, Uid: 0, Gid: 0},
		{Name: "./usr/bin/curl-link", Typeflag: tar.TypeLink, Linkname: "./usr/bin/curl"},
		{Name: "./usr/bin/c", Typeflag: tar.TypeSymlink, Linkname: "curl", Mode: 0o777},
		{Name: "./usr/share/doc/curl/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/share/doc/curl/copyright", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "./usr/share/doc/curl/changelog.Debian.gz", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "./usr/share/man/man1/curl.1.gz", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "./usr/share/locale/de/LC_MESSAGES/curl.mo", Typeflag: tar.TypeReg, Mode: 0o644},
	}, map[string]string{"./usr/bin/curl": "curl program", "./usr/share/doc/curl/copyright": "MIT"})
	return packDeb(t, "curl_7.88.1_amd64.deb", control, dataName, data)
}

// packDeb writes a .deb of a control stanza and a data tar.
func packDeb(t *testing.T, name, control, dataName string, data []byte) string {
	t.Helper()
	ctl := tarOf(t, []*tar.Header{
		{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./control", Typeflag: tar.TypeReg, Mode: 0o644},
	}, map[string]string{"./control": control})
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, arOf(
		[2]string{"debian-binary", "2.0\n"},
		[2]string{"control.tar.xz", string(compressed(t, ".xz", ctl))},
		[2]string{dataName, string(compressed(t, dataName, data))},
	), 0o644))
	return p
}

func TestDebFiles(t *testing.T) {
	want := []file{
		{name: "./", typeflag: tar.TypeDir, mode: 0o755, origin: "curl_7.88.1_amd64.deb"},
		{name: "./usr/", typeflag: tar.TypeDir, mode: 0o755, origin: "curl_7.88.1_amd64.deb"},
		{name: "./usr/bin/", typeflag: tar.TypeDir, mode: 0o755, origin: "curl_7.88.1_amd64.deb"},
		{name: "./usr/bin/curl", typeflag: tar.TypeReg, mode: 0o755, data: []byte("curl program"), origin: "curl_7.88.1_amd64.deb"},
		{name: "./usr/bin/curl-link", typeflag: tar.TypeLink, link: "usr/bin/curl", origin: "curl_7.88.1_amd64.deb"},
		{name: "./usr/bin/c", typeflag: tar.TypeSymlink, mode: 0o777, link: "curl", origin: "curl_7.88.1_amd64.deb"},
		{name: "./usr/share/doc/curl/", typeflag: tar.TypeDir, mode: 0o755, origin: "curl_7.88.1_amd64.deb"},
		{name: "./usr/share/doc/curl/copyright", typeflag: tar.TypeReg, mode: 0o644, data: []byte("MIT"), origin: "curl_7.88.1_amd64.deb"},
		{name: "var/lib/dpkg/status.d/curl", typeflag: tar.TypeReg, mode: 0o644, data: []byte(curlControl), origin: "curl_7.88.1_amd64.deb"},
	}
	for _, data := range []string{"data.tar.xz", "data.tar.gz", "data.tar.zst", "data.tar"} {
		t.Run(data, func(t *testing.T) {
			got, err := debFiles(writeDeb(t, data, curlControl))
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestDebFilesErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{name: "missing file", path: filepath.Join(dir, "nope.deb"), wantErr: "-deb: open"},
		{name: "not ar", path: write("a.deb", []byte("PK\x03\x04")), wantErr: "a.deb: not an ar archive"},
		{name: "truncated", path: write("b.deb", arOf([2]string{"debian-binary", "2.0\n"})[:20]), wantErr: "b.deb: truncated ar header"},
		{name: "no data member", path: write("c.deb", arOf([2]string{"debian-binary", "2.0\n"})), wantErr: "c.deb: not a Debian package (no data.tar or control.tar member)"},
		{name: "unknown compression", path: write("d.deb", arOf([2]string{"data.tar.bz2", "BZh"})), wantErr: "d.deb: member data.tar.bz2: unknown compression"},
		{name: "corrupt xz", path: write("e.deb", arOf([2]string{"data.tar.xz", "not xz"})), wantErr: "e.deb: member data.tar.xz:"},
		{name: "no Package field", path: writeDeb(t, "data.tar.xz", "Version: 1\n"), wantErr: "control has no Package field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := debFiles(tt.path)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestCABundleFromPackage(t *testing.T) {
	data := tarOf(t, []*tar.Header{
		{Name: "./usr/share/ca-certificates/mozilla/B_Root.crt", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "./usr/share/ca-certificates/mozilla/A_Root.crt", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "./usr/share/doc/ca-certificates/README", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "./usr/sbin/update-ca-certificates", Typeflag: tar.TypeReg, Mode: 0o755},
	}, map[string]string{
		"./usr/share/ca-certificates/mozilla/B_Root.crt": "-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n",
		"./usr/share/ca-certificates/mozilla/A_Root.crt": "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----",
		"./usr/share/doc/ca-certificates/README":         "not a certificate",
	})
	deb := packDeb(t, "ca-certificates_20250419_all.deb", "Package: ca-certificates\n", "data.tar.xz", data)
	got, err := caBundle(deb)
	require.NoError(t, err)
	assert.Equal(t, "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n"+
		"-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n", string(got),
		"in order of path, each ending in a newline, as update-ca-certificates writes them")

	empty := packDeb(t, "curl_7.88.1_amd64.deb", "Package: curl\n", "data.tar.xz", tarOf(t, nil, nil))
	_, err = caBundle(empty)
	assert.ErrorContains(t, err, "curl_7.88.1_amd64.deb has no usr/share/ca-certificates/*.crt")
}
