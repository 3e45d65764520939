package testbin

import (
	"errors"
	"os"
	"path/filepath"
)

var errNoRepoRoot = errors.New("cannot find the repository root (a go.mod above the working directory)")

// RepoRoot returns the directory of the nearest go.mod at or above the working directory, which
// for `go test` is the package directory.
func RepoRoot() (string, error) {
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
