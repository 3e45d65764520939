package prometheus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// testbinScript builds the binary and owns its pinned version and cache path; the harness
// asks it where the binary is rather than repeating the version here.
const testbinScript = "hack/testbin.sh"

// dirKey is the line of `testbin.sh path` that names the directory of the binary.
const dirKey = "SERIN_PROMETHEUS_DIR"

var (
	binaryOnce sync.Once
	binaryDir  string
	binaryErr  error
)

// binaryPath returns the path of the prometheus binary, or an error naming the command that
// builds it.
func binaryPath() (string, error) {
	binaryOnce.Do(func() { binaryDir, binaryErr = readBinaryDir() })
	if binaryErr != nil {
		return "", binaryErr
	}
	return binaryIn(binaryDir)
}

// binaryIn returns the path of the prometheus binary in dir, or an error naming the command
// that builds it.
func binaryIn(dir string) (string, error) {
	bin := filepath.Join(dir, "prometheus")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("prometheus binary missing: %s; build it from the repository root with "+
			"`%s prometheus` (about 4-5 minutes and 3.3 GB of RAM on 2 cores when cold, seconds once cached)",
			bin, testbinScript)
	}
	return bin, nil
}

// readBinaryDir runs `hack/testbin.sh path` and returns the directory it prints for prometheus.
func readBinaryDir() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("bash", filepath.Join(root, testbinScript), "path")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s path: %w: %s", testbinScript, err, strings.TrimSpace(stderr.String()))
	}
	return parseBinaryDir(out)
}

// parseBinaryDir finds the prometheus directory among the KEY=VALUE lines of `testbin.sh path`.
func parseBinaryDir(out []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && k == dirKey && v != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s path printed no %s", testbinScript, dirKey)
}

var errNoRepoRoot = errors.New("cannot find the repository root (a go.mod above the working directory)")

// repoRoot returns the directory of the nearest go.mod at or above the working directory,
// which for `go test` is the package directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errNoRepoRoot
		}
		dir = parent
	}
}
