package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/serin-dev/serin/test/lib/testbin"
)

// gatewayAPIModule is the module whose zip ships the Gateway API CRDs.
const gatewayAPIModule = "sigs.k8s.io/gateway-api"

var (
	gatewayAPIOnce sync.Once
	gatewayAPIDir  string
	gatewayAPIErr  error
)

// gatewayAPICRDDir returns the standard-channel CRD directory of the Gateway API version the
// repository's go.mod selects, from the module cache (downloading the module if it is not there
// yet, which is the only network access the harness may cause).
func gatewayAPICRDDir() (string, error) {
	gatewayAPIOnce.Do(func() {
		root, err := testbin.RepoRoot()
		if err != nil {
			gatewayAPIErr = err
			return
		}
		// go list leaves Dir empty while the module is not in the module cache.
		dir, err := goModuleDir(root, "list", "-m", "-json", gatewayAPIModule)
		if err == nil && dir == "" {
			dir, err = goModuleDir(root, "mod", "download", "-json", gatewayAPIModule)
		}
		if err != nil {
			gatewayAPIErr = err
			return
		}
		gatewayAPIDir = filepath.Join(dir, "config", "crd", "standard")
	})
	return gatewayAPIDir, gatewayAPIErr
}

// goModuleDir runs a go command that prints a module as JSON in root and returns its Dir.
func goModuleDir(root string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return mod.Dir, nil
}
