package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// debFiles reads the files a Debian package installs, and its control
// stanza as var/lib/dpkg/status.d/PACKAGE, where distroless images keep it
// so that vulnerability scanners see which packages an image holds.
// Maintainer scripts do not run: the load tester needs libraries and two
// programs, none of which relies on a postinst.
func debFiles(debPath string) ([]file, error) {
	raw, err := os.ReadFile(debPath)
	if err != nil {
		return nil, fmt.Errorf("-deb: %w", err)
	}
	members, err := arMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", debPath, err)
	}
	origin := filepath.Base(debPath)
	var data, control []byte
	for name, body := range members {
		switch {
		case strings.HasPrefix(name, "data.tar"):
			data, err = decompress(name, body)
		case strings.HasPrefix(name, "control.tar"):
			control, err = decompress(name, body)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", debPath, err)
		}
	}
	if data == nil || control == nil {
		return nil, fmt.Errorf("%s: not a Debian package (no data.tar or control.tar member)", debPath)
	}
	all, err := tarFiles(data, origin)
	if err != nil {
		return nil, fmt.Errorf("%s: data: %w", debPath, err)
	}
	var files []file
	for _, f := range all {
		if !documentation(f.name) {
			files = append(files, f)
		}
	}
	stanza, err := controlStanza(control)
	if err != nil {
		return nil, fmt.Errorf("%s: control: %w", debPath, err)
	}
	pkg := field(stanza, "Package")
	if pkg == "" {
		return nil, fmt.Errorf("%s: control has no Package field", debPath)
	}
	return append(files, file{
		name: "var/lib/dpkg/status.d/" + pkg, typeflag: tar.TypeReg, mode: 0o644,
		data: stanza, origin: origin,
	}), nil
}

// documentation tells the files no program of the image reads: manuals,
// translations and changelogs, a third of the load tester's packages. The
// copyright files stay, as the packages' licences ask, as in distroless.
func documentation(name string) bool {
	name = strings.Trim(path.Clean("/"+name), "/")
	for _, dir := range []string{"usr/share/locale/", "usr/share/man/", "usr/share/info/", "usr/share/lintian/"} {
		if strings.HasPrefix(name, dir) {
			return true
		}
	}
	return strings.HasPrefix(name, "usr/share/doc/") && strings.Count(name, "/") > 3 && path.Base(name) != "copyright"
}

// arMembers splits an ar archive, the outer format of a .deb, into its
// members by name.
func arMembers(b []byte) (map[string][]byte, error) {
	const magic, hdrLen = "!<arch>\n", 60
	if !bytes.HasPrefix(b, []byte(magic)) {
		return nil, errors.New("not an ar archive")
	}
	members := map[string][]byte{}
	for off := len(magic); off < len(b); {
		if off+hdrLen > len(b) {
			return nil, errors.New("truncated ar header")
		}
		h := b[off : off+hdrLen]
		name := strings.TrimSuffix(strings.TrimSpace(string(h[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(h[48:58])), 10, 64)
		if err != nil || size < 0 || int64(off+hdrLen)+size > int64(len(b)) {
			return nil, fmt.Errorf("ar member %q: bad size", name)
		}
		start := off + hdrLen
		members[name] = b[start : start+int(size)]
		off = start + int(size) + int(size%2) // members are 2-byte aligned
	}
	return members, nil
}

// decompress unpacks a member by the compression its name ends with, the
// ones dpkg-deb writes.
func decompress(name string, b []byte) ([]byte, error) {
	var r io.Reader
	var err error
	switch path.Ext(name) {
	case ".tar":
		return b, nil
	case ".gz":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case ".xz":
		r, err = xz.NewReader(bytes.NewReader(b))
	case ".zst":
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(b))
		if err == nil {
			defer d.Close()
			r = d
		}
	default:
		return nil, fmt.Errorf("member %s: unknown compression", name)
	}
	if err != nil {
		return nil, fmt.Errorf("member %s: %w", name, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("member %s: %w", name, err)
	}
	return out, nil
}

// tarFiles reads a package's data.tar. Owners and modes are the package's;
// times are dropped (the layer sets its own).
func tarFiles(b []byte, origin string) ([]file, error) {
	var files []file
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		f := file{
			name: h.Name, typeflag: h.Typeflag, mode: h.Mode & 0o7777,
			uid: h.Uid, gid: h.Gid, origin: origin,
		}
		switch h.Typeflag {
		case tar.TypeDir:
		case tar.TypeReg:
			if f.data, err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("%s: %w", h.Name, err)
			}
		case tar.TypeSymlink:
			f.link = h.Linkname
		case tar.TypeLink:
			// Hard links name their target relative to the root like the
			// entries of the layer do.
			f.link = strings.Trim(path.Clean("/"+h.Linkname), "/")
		default:
			return nil, fmt.Errorf("%s: tar entry type %q is not supported", h.Name, h.Typeflag)
		}
		files = append(files, f)
	}
}

// controlStanza returns the "control" file of a package's control.tar.
func controlStanza(b []byte) ([]byte, error) {
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no control file")
		}
		if err != nil {
			return nil, err
		}
		if path.Clean(h.Name) == "control" {
			return io.ReadAll(tr)
		}
	}
}

// field returns a single-line field of a control stanza.
func field(stanza []byte, name string) string {
	sc := bufio.NewScanner(bytes.NewReader(stanza))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
