package main

import (
	"archive/tar"
	"fmt"
	"os"
	"strings"
)

// The users and groups of distroless's static image, which the operator's
// Dockerfile builds FROM: the binaries run as nonroot (65532), and a
// securityContext with runAsNonRoot needs the user to be numeric or known.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group = "root:x:0:\n" +
		"nobody:x:65534:\n" +
		"tty:x:5:\n" +
		"staff:x:50:\n" +
		"nonroot:x:65532:\n"
	nonroot = 65532
)

// caBundlePath is where Go's crypto/x509, curl and OpenSSL on Debian and
// Alpine look for the trusted roots: the operator calls Slack, Teams and
// webhooks over TLS.
const caBundlePath = "etc/ssl/certs/ca-certificates.crt"

// baseFiles are the files the base images of the Dockerfiles give the
// binary: users, CA certificates, a writable /tmp and the nonroot home.
// The CA bundle is an input of the digest like the binary: a PEM file, or
// Debian's ca-certificates package (caBundle).
func baseFiles(caCerts string) ([]file, error) {
	pem, err := caBundle(caCerts)
	if err != nil {
		return nil, err
	}
	const origin = "the base files"
	return []file{
		{name: "etc/passwd", typeflag: tar.TypeReg, mode: 0o644, data: []byte(passwd), origin: origin},
		{name: "etc/group", typeflag: tar.TypeReg, mode: 0o644, data: []byte(group), origin: origin},
		{name: caBundlePath, typeflag: tar.TypeReg, mode: 0o644, data: pem, origin: caCerts},
		{name: "tmp", typeflag: tar.TypeDir, mode: 0o1777, origin: origin},
		{name: "home/nonroot", typeflag: tar.TypeDir, mode: 0o700, uid: nonroot, gid: nonroot, origin: origin},
	}, nil
}

// caBundle reads a PEM bundle, or makes the one update-ca-certificates
// makes from a ca-certificates package with the default configuration
// (every certificate it ships, in order of path). From the package, the
// bundle holds no certificate that an administrator added to the build
// machine, and it is the same on every machine for one package version.
func caBundle(path string) ([]byte, error) {
	if !strings.HasSuffix(path, ".deb") {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("-ca-certs: %w", err)
		}
		if len(pem) == 0 {
			return nil, fmt.Errorf("-ca-certs %s is empty", path)
		}
		return pem, nil
	}
	files, err := debFiles(path)
	if err != nil {
		return nil, fmt.Errorf("-ca-certs: %w", err)
	}
	certs, err := normalize(files)
	if err != nil {
		return nil, fmt.Errorf("-ca-certs: %w", err)
	}
	var pem []byte
	for _, f := range certs { // sorted by path
		if f.typeflag != tar.TypeReg || !strings.HasPrefix(f.name, "usr/share/ca-certificates/") || !strings.HasSuffix(f.name, ".crt") {
			continue
		}
		pem = append(pem, f.data...)
		if len(f.data) > 0 && f.data[len(f.data)-1] != '\n' {
			pem = append(pem, '\n')
		}
	}
	if len(pem) == 0 {
		return nil, fmt.Errorf("-ca-certs %s has no usr/share/ca-certificates/*.crt", path)
	}
	return pem, nil
}

// binaryFiles is the layer with the binary itself, at the root as in the
// Dockerfiles (COPY serin /serin).
func binaryFiles(name string, data []byte, origin string) []file {
	return []file{{name: name, typeflag: tar.TypeReg, mode: 0o755, data: data, origin: origin}}
}
