package prometheus

import (
	"os"
	"path/filepath"

	"github.com/serin-dev/serin/test/lib/testbin"
)

// dirKey is the line of `hack/testbin.sh path` that names the directory of the binary.
const dirKey = "SERIN_PROMETHEUS_DIR"

// binaryPath returns the path of the prometheus binary, or an error naming the command that
// builds it.
func binaryPath() (string, error) {
	dir, err := testbin.Dir(dirKey)
	if err != nil {
		return "", err
	}
	return binaryIn(dir)
}

// binaryIn returns the path of the prometheus binary in dir, or an error naming the command
// that builds it.
func binaryIn(dir string) (string, error) {
	bin := filepath.Join(dir, "prometheus")
	if _, err := os.Stat(bin); err != nil {
		return "", testbin.MissingError("prometheus", "about 4-5 minutes and 3.3 GB of RAM on 2 cores", bin)
	}
	return bin, nil
}
