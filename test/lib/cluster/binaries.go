package cluster

import (
	"os"
	"path/filepath"

	"github.com/serin-dev/serin/test/lib/testbin"
)

// The lines of `hack/testbin.sh path` that name the directories a cluster's binaries are in.
const (
	etcdDirKey       = "SERIN_ETCD_DIR"
	kubernetesDirKey = "SERIN_KUBERNETES_DIR"
	kwokDirKey       = "SERIN_KWOK_DIR"
)

// binaries holds the absolute paths of the executables and data files a cluster needs.
type binaries struct {
	etcd, apiserver, controllerManager, scheduler, kwok string
	// kwokStages are the stage definitions kwok is started with.
	kwokStages []string
}

// findBinaries locates the binaries of the requested tier and returns an error naming the
// command that builds them if any is missing.
func findBinaries(full bool) (*binaries, error) {
	dirs := map[string]string{}
	for _, key := range []string{etcdDirKey, kubernetesDirKey, kwokDirKey} {
		dir, err := testbin.Dir(key)
		if err != nil {
			return nil, err
		}
		dirs[key] = dir
	}
	return locateBinaries(dirs, full)
}

// locateBinaries finds the binaries in the directories that `testbin.sh path` printed.
func locateBinaries(dirs map[string]string, full bool) (*binaries, error) {
	k8s, kwokDir := dirs[kubernetesDirKey], dirs[kwokDirKey]
	b := &binaries{
		etcd:              filepath.Join(dirs[etcdDirKey], "etcd"),
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
		return nil, testbin.MissingError(tier, "about 9 minutes on 2 cores", missing...)
	}
	return b, nil
}
