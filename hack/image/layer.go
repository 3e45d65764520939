package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// file is one entry of a layer. Only what an image needs is kept: no
// timestamps (every entry gets the epoch) and no user names (ids only), so
// nothing of the build machine leaks into the digest.
type file struct {
	name     string // relative to /, no leading slash: "etc/passwd"
	typeflag byte   // tar.TypeReg, TypeDir, TypeSymlink or TypeLink
	mode     int64  // permission bits, with setuid/setgid/sticky
	uid, gid int
	link     string // the target of a symlink or hard link
	data     []byte
	origin   string // where it came from, for error messages
}

// normalize returns files sorted by name with every missing parent
// directory added (root-owned, 0755), as unpackers otherwise create them
// with their own modes. Equal directories merge; anything else at the same
// name is an error, since which one wins would depend on the input order.
func normalize(files []file) ([]file, error) {
	byName := map[string]file{}
	for _, f := range files {
		f.name = strings.Trim(path.Clean("/"+f.name), "/")
		if f.name == "" {
			continue // the root itself
		}
		if prev, ok := byName[f.name]; ok {
			if prev.typeflag == tar.TypeDir && f.typeflag == tar.TypeDir {
				continue
			}
			return nil, fmt.Errorf("%s is in both %s and %s", f.name, prev.origin, f.origin)
		}
		byName[f.name] = f
		for dir := path.Dir(f.name); dir != "."; dir = path.Dir(dir) {
			if _, ok := byName[dir]; !ok {
				byName[dir] = file{name: dir, typeflag: tar.TypeDir, mode: 0o755, origin: f.origin}
			}
		}
	}
	for name, f := range byName {
		if f.typeflag == tar.TypeLink {
			// Sorted by name, a hard link can come before its target, which
			// unpackers refuse; a copy costs only the bytes.
			target := byName[f.link]
			if target.typeflag != tar.TypeReg {
				return nil, fmt.Errorf("%s (%s) is a hard link to %s, which is not a file here", name, f.origin, f.link)
			}
			target.name, target.origin = name, f.origin
			byName[name] = target
		}
		if f.typeflag == tar.TypeDir {
			continue
		}
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if d := byName[dir]; d.typeflag != tar.TypeDir {
				return nil, fmt.Errorf("%s (%s) is under %s, which %s has as a file", name, f.origin, dir, d.origin)
			}
		}
	}
	out := make([]file, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// tarBytes writes files as an uncompressed tar with every time set to
// epoch. Sorting puts each directory before its contents, which unpackers
// need for the directory's mode to apply.
func tarBytes(files []file, epoch time.Time) ([]byte, error) {
	files, err := normalize(files)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{
			Typeflag: f.typeflag,
			Name:     f.name,
			Linkname: f.link,
			Mode:     f.mode,
			Uid:      f.uid,
			Gid:      f.gid,
			ModTime:  epoch,
			// PAX keeps long names and ids the same way on every Go version
			// instead of letting the writer pick per entry.
			Format: tar.FormatPAX,
		}
		if f.typeflag == tar.TypeDir {
			h.Name += "/"
		}
		if f.typeflag == tar.TypeReg {
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// newLayer packs files into a gzip-compressed OCI layer. The compression is
// Go's compress/gzip at a fixed level, so the compressed digest too depends
// only on the files (and the Go release that built this tool).
func newLayer(files []file, epoch time.Time) (v1.Layer, error) {
	b, err := tarBytes(files, epoch)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
