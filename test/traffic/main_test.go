package traffic

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/proc"
	"github.com/serin-dev/serin/test/lib/sandbox"
	"github.com/serin-dev/serin/test/lib/stack"
	"github.com/serin-dev/serin/test/lib/testbin"
	"github.com/serin-dev/serin/test/lib/tutorial"
)

// Environment variables: the gate of the tier, and the binaries the outer process built for
// the world.
const (
	envGate = "SERIN_E2E_TRAFFIC"
	envBins = "SERIN_TRAFFIC_BIN_DIR"
)

var (
	// skip, when set, is why every test skips.
	skip string
	// env is the tutorial's environment, shared by the scenarios.
	env *tutorial.Env
)

func TestMain(m *testing.M) {
	sandbox.Init()
	switch {
	case os.Getenv(envGate) == "":
		skip = "the real-traffic tier runs with `make test-e2e-traffic`"
	case sandbox.Supported() != "":
		skip = "the real-traffic tier needs network namespaces: " + sandbox.Supported()
	}
	if skip != "" {
		os.Exit(m.Run())
	}
	if !sandbox.InWorld() {
		os.Exit(outside())
	}
	os.Exit(inside(m))
}

// outside builds the operator and the load tester from this tree (the world has no network,
// so nothing is fetched in there), then runs the tests again inside a new world.
func outside() int {
	dir, err := os.MkdirTemp("", "serin-traffic-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if keep, _ := strconv.ParseBool(os.Getenv(cluster.KeepEnv)); keep {
		fmt.Printf("%s is set: keeping %s\n", cluster.KeepEnv, dir)
	} else {
		defer os.RemoveAll(dir)
	}
	root, err := testbin.RepoRoot()
	if err == nil {
		err = build(root, dir, "serin", "loadtester")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv(envBins, dir)
	return sandbox.RunInWorld()
}

func build(root, dir string, cmds ...string) error {
	for _, c := range cmds {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, c), "./cmd/"+c)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/%s: %w\n%s", c, err, out)
		}
	}
	return nil
}

// inside starts the stack and what every scenario shares, runs the tests and stops it.
func inside(m *testing.M) int {
	bins := os.Getenv(envBins)
	dir := filepath.Join(bins, "world")
	if err := os.Mkdir(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()
	logf := func(format string, args ...any) {
		fmt.Printf("[%5.1fs] %s\n", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}
	s, err := stack.Start(ctx, stack.Options{
		Dir: dir, Serin: filepath.Join(bins, "serin"), Loadtester: filepath.Join(bins, "loadtester"), Logf: logf,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the stack:", err)
		return 1
	}
	code := run(ctx, m, s, logf)
	if code != 0 {
		dumpLogs(dir)
	}
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the stack:", err)
		code = max(code, 1)
	}
	return code
}

func run(ctx context.Context, m *testing.M, s *stack.Stack, logf func(string, ...any)) int {
	var err error
	if env, err = tutorial.NewEnv(s, os.Stdout); err == nil {
		err = env.InstallShared(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "installing the tutorial's shared objects:", err)
		return 1
	}
	logf("stack and shared objects ready")
	return m.Run()
}

// dumpLogs prints the tails of the operator's, Traefik's and every Pod's logs after a failure.
func dumpLogs(dir string) {
	pods, _ := filepath.Glob(filepath.Join(dir, "pods", "*", "*.log"))
	for _, path := range append([]string{filepath.Join(dir, "serin.log"), filepath.Join(dir, "traefik.log")}, pods...) {
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(os.Stderr, "--- %s ends with:\n%s\n", rel, proc.LogTail(path, 4096))
	}
}
