package cluster

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

// testbinScript is the script, relative to the repository root, that builds the binaries and
// owns their pinned versions and cache layout; the harness asks it where they are rather than
// repeating the versions here.
const testbinScript = "hack/testbin.sh"

// binaries holds the absolute paths of the executables and data files a cluster needs.
type binaries struct {
	etcd, apiserver, controllerManager, scheduler, kwok string
	// kwokStages are the stage definitions kwok is started with.
	kwokStages []string
}

var (
	testbinOnce  sync.Once
	testbinPaths map[string]string
	testbinErr   error
)

// findBinaries locates the binaries of the requested tier and returns an error naming the
// command that builds them if any is missing.
func findBinaries(full bool) (*binaries, error) {
	testbinOnce.Do(func() { testbinPaths, testbinErr = readTestbinPaths() })
	if testbinErr != nil {
		return nil, testbinErr
	}
	return locateBinaries(testbinPaths, full)
}

// locateBinaries finds the binaries in the directories that `testbin.sh path` printed.
func locateBinaries(paths map[string]string, full bool) (*binaries, error) {
	k8s, kwokDir := paths["SERIN_KUBERNETES_DIR"], paths["SERIN_KWOK_DIR"]
	b := &binaries{
		etcd:              filepath.Join(paths["SERIN_ETCD_DIR"], "etcd"),
		apiserver:         filepath.Join(k8s, "kube-apiserver"),
		controllerManager: filepath.Join(k8s, "kube-controller-manager"),
		scheduler:         filepath.Join(k8s, "kube-scheduler"),
		kwok:              filepath.Join(kwokDir, "kwok"),
	}
	need, tier := []string{b.etcd, b.apiserver}, "core"
	if full {
		need, tier = append(need, b.controllerManager, b.scheduler, b.kwok), "all"
	}
	var missing []string
	for _, p := range need {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	if full {
		b.kwokStages, _ = filepath.Glob(filepath.Join(kwokDir, "stages", "*.yaml"))
		if len(b.kwokStages) == 0 {
			missing = append(missing, filepath.Join(kwokDir, "stages", "*.yaml"))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("test binaries missing: %s; build them from the repository root with "+
			"`%s %s` (or `make testbin`): about 9 minutes on 2 cores when cold, seconds once cached",
			strings.Join(missing, ", "), testbinScript, tier)
	}
	return b, nil
}

// readTestbinPaths runs `hack/testbin.sh path` and parses its KEY=VALUE lines.
func readTestbinPaths() (map[string]string, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("bash", filepath.Join(root, testbinScript), "path")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s path: %w: %s", testbinScript, err, strings.TrimSpace(stderr.String()))
	}
	return parseEnvLines(out)
}

// parseEnvLines parses KEY=VALUE lines and checks that the keys the harness uses are present.
func parseEnvLines(out []byte) (map[string]string, error) {
	paths := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			paths[k] = v
		}
	}
	for _, k := range []string{"SERIN_ETCD_DIR", "SERIN_KUBERNETES_DIR", "SERIN_KWOK_DIR"} {
		if paths[k] == "" {
			return nil, fmt.Errorf("%s path printed no %s", testbinScript, k)
		}
	}
	return paths, nil
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
