package testbin

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Script is the script, relative to the repository root, that builds the test binaries.
const Script = "hack/testbin.sh"

var (
	pathsOnce sync.Once
	paths     map[string]string
	pathsErr  error
)

// Paths returns the KEY=VALUE lines that `hack/testbin.sh path` prints, such as
// SERIN_ETCD_DIR=/home/me/.cache/serin/testbin/etcd-v3.6.16. The script runs once per test
// binary; later calls return the first result. Callers must not modify the map.
func Paths() (map[string]string, error) {
	pathsOnce.Do(func() { paths, pathsErr = readPaths() })
	return paths, pathsErr
}

// Dir returns the directory that `hack/testbin.sh path` prints for key, or an error if it
// printed none.
func Dir(key string) (string, error) {
	p, err := Paths()
	if err != nil {
		return "", err
	}
	return lookup(p, key)
}

// readPaths runs `hack/testbin.sh path` from the repository root and parses its output.
func readPaths() (map[string]string, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("bash", filepath.Join(root, Script), "path")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s path: %w: %s", Script, err, strings.TrimSpace(stderr.String()))
	}
	return parseEnvLines(out), nil
}

// parseEnvLines parses KEY=VALUE lines, ignoring any other line.
func parseEnvLines(out []byte) map[string]string {
	p := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			p[k] = v
		}
	}
	return p
}

// lookup returns the non-empty value of key in p.
func lookup(p map[string]string, key string) (string, error) {
	if v := p[key]; v != "" {
		return v, nil
	}
	return "", fmt.Errorf("%s path printed no %s", Script, key)
}
