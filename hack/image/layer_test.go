package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var epoch = time.Unix(1_700_000_000, 0).UTC()

func reg(name, data, origin string) file {
	return file{name: name, typeflag: tar.TypeReg, mode: 0o644, data: []byte(data), origin: origin}
}

func dir(name string, mode int64, origin string) file {
	return file{name: name, typeflag: tar.TypeDir, mode: mode, origin: origin}
}

// readTar returns the headers of a tar and the contents of its files.
func readTar(t *testing.T, b []byte) ([]*tar.Header, map[string]string) {
	t.Helper()
	var hs []*tar.Header
	data := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return hs, data
		}
		require.NoError(t, err)
		body, err := io.ReadAll(tr)
		require.NoError(t, err)
		hs = append(hs, h)
		data[h.Name] = string(body)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name      string
		files     []file
		wantNames []string
		wantData  map[string]string
		wantErr   string
	}{
		{
			name:      "parents added and sorted",
			files:     []file{reg("/usr/bin/curl", "c", "curl.deb"), reg("etc/passwd", "p", "base")},
			wantNames: []string{"etc", "etc/passwd", "usr", "usr/bin", "usr/bin/curl"},
		},
		{
			name:      "the same directory from two packages merges",
			files:     []file{dir("./usr/", 0o755, "a.deb"), dir("usr", 0o755, "b.deb"), reg("usr/x", "x", "b.deb")},
			wantNames: []string{"usr", "usr/x"},
		},
		{
			name:    "the same file from two packages",
			files:   []file{reg("usr/bin/x", "1", "a.deb"), reg("usr/bin/x", "2", "b.deb")},
			wantErr: "usr/bin/x is in both a.deb and b.deb",
		},
		{
			name:    "a file where another package has a directory",
			files:   []file{reg("usr/lib", "1", "a.deb"), reg("usr/lib/libx.so", "2", "b.deb")},
			wantErr: "usr/lib/libx.so (b.deb) is under usr/lib, which a.deb has as a file",
		},
		{
			name: "a hard link becomes a copy, as it may sort before its target",
			files: []file{reg("usr/bin/x", "program", "a.deb"),
				{name: "usr/bin/a", typeflag: tar.TypeLink, link: "usr/bin/x", origin: "a.deb"}},
			wantNames: []string{"usr", "usr/bin", "usr/bin/a", "usr/bin/x"},
			wantData:  map[string]string{"usr/bin/a": "program", "usr/bin/x": "program"},
		},
		{
			name:    "a hard link to nothing",
			files:   []file{{name: "usr/bin/a", typeflag: tar.TypeLink, link: "usr/bin/x", origin: "a.deb"}},
			wantErr: "usr/bin/a (a.deb) is a hard link to usr/bin/x, which is not a file here",
		},
		{name: "the root entry of a package is dropped", files: []file{dir("./", 0o755, "a.deb")}, wantNames: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalize(tt.files)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			names := []string{}
			for _, f := range got {
				names = append(names, f.name)
				if want, ok := tt.wantData[f.name]; ok {
					assert.Equal(t, byte(tar.TypeReg), f.typeflag, f.name)
					assert.Equal(t, want, string(f.data), f.name)
				}
			}
			assert.Equal(t, tt.wantNames, names)
		})
	}
}

func TestTarBytes(t *testing.T) {
	files := []file{
		binaryFiles("/serin", []byte("ELF"), "serin")[0],
		dir("tmp", 0o1777, "base"),
		{name: "home/nonroot", typeflag: tar.TypeDir, mode: 0o700, uid: nonroot, gid: nonroot},
		{name: "lib64/ld-linux-x86-64.so.2", typeflag: tar.TypeSymlink, mode: 0o777, link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
		reg("etc/passwd", passwd, "base"),
	}
	b, err := tarBytes(files, epoch)
	require.NoError(t, err)
	hs, data := readTar(t, b)

	type entry struct {
		Name     string
		Type     byte
		Mode     int64
		UID, GID int
		Link     string
	}
	var got []entry
	for _, h := range hs {
		got = append(got, entry{h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid, h.Linkname})
		assert.True(t, h.ModTime.Equal(epoch), "%s has time %s", h.Name, h.ModTime)
		assert.Empty(t, h.Uname+h.Gname, "%s names its owner", h.Name)
	}
	assert.Equal(t, []entry{
		{"etc/", tar.TypeDir, 0o755, 0, 0, ""},
		{"etc/passwd", tar.TypeReg, 0o644, 0, 0, ""},
		{"home/", tar.TypeDir, 0o755, 0, 0, ""},
		{"home/nonroot/", tar.TypeDir, 0o700, nonroot, nonroot, ""},
		{"lib64/", tar.TypeDir, 0o755, 0, 0, ""},
		{"lib64/ld-linux-x86-64.so.2", tar.TypeSymlink, 0o777, 0, 0, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
		{"serin", tar.TypeReg, 0o755, 0, 0, ""},
		{"tmp/", tar.TypeDir, 0o1777, 0, 0, ""},
	}, got)
	assert.Equal(t, passwd, data["etc/passwd"])
	assert.Equal(t, "ELF", data["serin"])

	// The order the files come in does not show in the bytes.
	reversed := make([]file, len(files))
	for i, f := range files {
		reversed[len(files)-1-i] = f
	}
	again, err := tarBytes(reversed, epoch)
	require.NoError(t, err)
	assert.Equal(t, b, again)
}
