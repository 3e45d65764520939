package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeELF is the smallest linux executable header debug/elf reads: a file
// header and, when interp is set, a PT_INTERP program header with it, which
// is what a dynamically linked program has.
func fakeELF(t *testing.T, m elf.Machine, interp string) []byte {
	t.Helper()
	const ehSize, phSize = 64, 56
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(m), Version: uint32(elf.EV_CURRENT),
		Ehsize: ehSize, Phentsize: phSize,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var progs []elf.Prog64
	if interp != "" {
		h.Phoff, h.Phnum = ehSize, 1
		progs = append(progs, elf.Prog64{
			Type: uint32(elf.PT_INTERP), Off: ehSize + phSize,
			Filesz: uint64(len(interp) + 1), Memsz: uint64(len(interp) + 1),
		})
	}
	var buf bytes.Buffer
	require.NoError(t, binary.Write(&buf, binary.LittleEndian, h))
	require.NoError(t, binary.Write(&buf, binary.LittleEndian, progs))
	if interp != "" {
		buf.WriteString(interp + "\x00")
	}
	return buf.Bytes()
}

func TestBinaryArch(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    string
		wantErr string
	}{
		{name: "static amd64", data: fakeELF(t, elf.EM_X86_64, ""), want: "amd64"},
		{name: "static arm64", data: fakeELF(t, elf.EM_AARCH64, ""), want: "arm64"},
		{name: "dynamic", data: fakeELF(t, elf.EM_X86_64, "/lib64/ld-linux-x86-64.so.2"),
			wantErr: "serin is dynamically linked (interpreter /lib64/ld-linux-x86-64.so.2): build it with CGO_ENABLED=0"},
		{name: "not ELF", data: []byte("#!/bin/sh\n"), wantErr: "serin is not a linux binary (build it with GOOS=linux)"},
		{name: "unknown machine", data: fakeELF(t, elf.EM_SPARCV9, ""), wantErr: "serin: ELF machine EM_SPARCV9 has no image architecture here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := binaryArch("serin", tt.data)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestCheckLinked uses this machine's bash, a real dynamically linked
// program with the DT_NEEDED entries Debian's has.
func TestCheckLinked(t *testing.T) {
	bash, err := os.ReadFile("/bin/bash")
	require.NoError(t, err, "the test reads /bin/bash as a real dynamic program")
	e, err := elf.NewFile(bytes.NewReader(bash))
	require.NoError(t, err)
	interp := interpreter(e)
	arch := goarch[e.Machine]
	needed, err := e.ImportedLibraries()
	require.NoError(t, err)
	require.NotEmpty(t, interp)
	require.Contains(t, needed, "libc.so.6")

	prog := file{name: "bin/bash", typeflag: tar.TypeReg, mode: 0o755, data: bash, origin: "bash.deb"}
	lib := func(dir, name string) file {
		return file{name: path.Join(dir, name), typeflag: tar.TypeReg, mode: 0o644, origin: "libs.deb"}
	}
	all := []file{prog, {name: interp[1:], typeflag: tar.TypeSymlink, link: "x", origin: "libc6.deb"}}
	for i, n := range needed {
		dir := "lib/x86_64-linux-gnu"
		if i%2 == 1 {
			dir = "usr/lib/x86_64-linux-gnu" // either of Debian's lib directories does
		}
		all = append(all, lib(dir, n))
	}

	tests := []struct {
		name    string
		files   []file
		wantErr string
		arch    string // the binary's, if not this machine's
	}{
		{name: "self-contained", files: all},
		{name: "a library missing", files: all[:len(all)-1],
			wantErr: "bin/bash (bash.deb) needs " + needed[len(needed)-1]},
		{name: "a library outside the lib directories", files: append(all[:len(all)-1:len(all)-1], lib("usr/share", needed[len(needed)-1])),
			wantErr: "needs " + needed[len(needed)-1]},
		{name: "no interpreter", files: append([]file{prog}, all[2:]...),
			wantErr: "bin/bash needs the interpreter " + interp},
		{name: "built for another architecture", files: all, arch: "riscv64",
			wantErr: "bin/bash (bash.deb) is built for " + e.Machine.String() + ", the binary for riscv64"},
		{name: "non-ELF files are not read", files: []file{{name: "etc/passwd", typeflag: tar.TypeReg, data: []byte(passwd)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := arch
			if tt.arch != "" {
				want = tt.arch
			}
			err := checkLinked(tt.files, want)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			assert.ErrorContains(t, err, "the packages do not fit the binary")
		})
	}
}
