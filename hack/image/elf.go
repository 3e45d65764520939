package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"path"
	"sort"
	"strings"
)

// goarch maps an ELF machine to the OCI platform architecture.
var goarch = map[elf.Machine]string{
	elf.EM_X86_64:  "amd64",
	elf.EM_AARCH64: "arm64",
	elf.EM_ARM:     "arm",
	elf.EM_386:     "386",
	elf.EM_PPC64:   "ppc64le",
	elf.EM_S390:    "s390x",
	elf.EM_RISCV:   "riscv64",
}

// binaryArch checks that data is a static linux executable, since the image
// has no C library for a dynamic one to load, and returns its architecture
// for the image config.
func binaryArch(name string, data []byte) (string, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%s is not a linux binary (build it with GOOS=linux): %w", name, err)
	}
	defer f.Close()
	if interp := interpreter(f); interp != "" {
		return "", fmt.Errorf("%s is dynamically linked (interpreter %s): build it with CGO_ENABLED=0 as `make build` does", name, interp)
	}
	arch, ok := goarch[f.Machine]
	if !ok {
		return "", fmt.Errorf("%s: ELF machine %s has no image architecture here", name, f.Machine)
	}
	return arch, nil
}

func interpreter(f *elf.File) string {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return "?"
		}
		return strings.TrimRight(string(b), "\x00")
	}
	return ""
}

// checkLinked reports every shared library or program interpreter that an
// ELF file among files needs and that files do not have. Debian's
// dependency closure misses what a package pre-depends on (bash on
// libtinfo6, for instance); failing the build here is better than a load
// tester whose bash tasks die with "error while loading shared libraries".
// Libraries are found by name in any lib directory, as the dynamic loader's
// default paths on Debian cover them all. Every program and library must
// also be built for arch, the binary's: apt fetches this machine's
// architecture, which a GOARCH=arm64 build would not match.
func checkLinked(files []file, arch string) error {
	have := map[string]bool{}
	libs := map[string]bool{}
	for _, f := range files {
		name := strings.Trim(path.Clean("/"+f.name), "/")
		have[name] = true
		if dir := path.Dir(name); strings.HasPrefix(dir, "lib") || strings.HasPrefix(dir, "usr/lib") {
			libs[path.Base(name)] = true
		}
	}
	var missing []string
	for _, f := range files {
		if f.typeflag != tar.TypeReg || !bytes.HasPrefix(f.data, []byte(elf.ELFMAG)) {
			continue
		}
		e, err := elf.NewFile(bytes.NewReader(f.data))
		if err != nil {
			continue // not every file with ELF's magic is one a loader reads
		}
		if goarch[e.Machine] != arch {
			missing = append(missing, fmt.Sprintf("%s (%s) is built for %s, the binary for %s", f.name, f.origin, e.Machine, arch))
		}
		if interp := interpreter(e); interp != "" && !have[strings.TrimPrefix(interp, "/")] {
			missing = append(missing, fmt.Sprintf("%s needs the interpreter %s", f.name, interp))
		}
		needed, _ := e.ImportedLibraries()
		for _, lib := range needed {
			if !libs[lib] {
				missing = append(missing, fmt.Sprintf("%s (%s) needs %s", f.name, f.origin, lib))
			}
		}
		e.Close()
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("the packages do not fit the binary (add packages that hold what is missing): %s", strings.Join(missing, "; "))
	}
	return nil
}
