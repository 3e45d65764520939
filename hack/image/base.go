package main

import (
	"archive/tar"
	"fmt"
	"os"
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
// The CA bundle is read from caCerts (the build machine's, from Debian's
// ca-certificates package), so it is an input of the digest like the
// binary.
func baseFiles(caCerts string) ([]file, error) {
	pem, err := os.ReadFile(caCerts)
	if err != nil {
		return nil, fmt.Errorf("-ca-certs: %w", err)
	}
	if len(pem) == 0 {
		return nil, fmt.Errorf("-ca-certs %s is empty", caCerts)
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

// binaryFiles is the layer with the binary itself, at the root as in the
// Dockerfiles (COPY serin /serin).
func binaryFiles(name string, data []byte, origin string) []file {
	return []file{{name: name, typeflag: tar.TypeReg, mode: 0o755, data: data, origin: origin}}
}
