package cluster

import (
	"os"
	"path/filepath"

	"github.com/serin-dev/serin/test/lib/testbin"
)

// kedaCRDFile is the ScaledObject CRD that hack/testbin.sh keda-crd copies from KEDA's module.
const kedaCRDFile = "keda.sh_scaledobjects.yaml"

// kedaCRD returns the path of KEDA's ScaledObject CRD in the testbin cache, or an error that
// says how to get it.
func kedaCRD() (string, error) {
	dir, err := testbin.Dir("SERIN_KEDA_DIR")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, kedaCRDFile)
	if _, err := os.Stat(path); err != nil {
		return "", testbin.MissingError("keda-crd", "a few seconds", path)
	}
	return path, nil
}
