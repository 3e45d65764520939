package install

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/test/lib/testbin"
)

// testVersion is what the tests stamp into the binaries, as a release
// would with `make build VERSION=v1.2.3`.
const testVersion = "v0.0.0-install-test"

// binaries are the commands `make build` puts in _output/bin, which the
// Dockerfiles package.
var binaries = []string{"serin", "loadtester"}

var build struct {
	once sync.Once
	out  []byte
	err  error
}

// makeBuild runs `make build` once for the package and returns _output/bin.
func makeBuild(t *testing.T) string {
	t.Helper()
	root, err := testbin.RepoRoot()
	require.NoError(t, err)
	build.once.Do(func() {
		build.out, build.err = runMake(root, nil, "build", "VERSION="+testVersion)
	})
	require.NoError(t, build.err, "make build:\n%s", build.out)
	return filepath.Join(root, "_output", "bin")
}

// runMake runs make in root with the environment, less CONTAINER_ENGINE
// (so that make probes for one), plus env.
func runMake(root string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("make", append([]string{"--no-print-directory"}, args...)...)
	cmd.Dir = root
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONTAINER_ENGINE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd.CombinedOutput()
}

func TestMakeBuildStampsTheVersion(t *testing.T) {
	dir := makeBuild(t)
	for _, bin := range binaries {
		t.Run(bin, func(t *testing.T) {
			out, err := exec.Command(filepath.Join(dir, bin), "-version").CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Equal(t, testVersion+"\n", string(out))
		})
	}
}

// dockerfile is what the tests read of a Dockerfile.
type dockerfile struct {
	from, user string
	copies     [][]string // the arguments of each COPY
	entrypoint string
	run        []string
}

func readDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var df dockerfile
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, args, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			df.from = args
		case "COPY":
			df.copies = append(df.copies, strings.Fields(args))
		case "USER":
			df.user = args
		case "ENTRYPOINT":
			df.entrypoint = args
		case "RUN":
			df.run = append(df.run, args)
		default:
			t.Errorf("%s: unexpected instruction %q", path, instr)
		}
	}
	return df
}

// TestDockerfilesPackageTheBuiltBinaries checks what can be checked without
// a container engine: each image copies the binary `make build` made (the
// context is _output/bin), compiles nothing, runs it as non-root and as its
// entrypoint.
func TestDockerfilesPackageTheBuiltBinaries(t *testing.T) {
	dir := makeBuild(t)
	root, err := testbin.RepoRoot()
	require.NoError(t, err)
	for _, bin := range binaries {
		t.Run(bin, func(t *testing.T) {
			df := readDockerfile(t, filepath.Join(root, "cmd", bin, "Dockerfile"))
			require.Equal(t, [][]string{{bin, "/" + bin}}, df.copies)
			assert.FileExists(t, filepath.Join(dir, df.copies[0][0]), "the build context is _output/bin")
			assert.Equal(t, "65532:65532", df.user)
			assert.Equal(t, `["/`+bin+`"]`, df.entrypoint)
			for _, r := range df.run {
				assert.NotContains(t, r, "go ", "images package make build's binaries, they compile nothing")
			}
			if bin == "serin" {
				assert.Equal(t, "gcr.io/distroless/static-debian12:nonroot", df.from)
				assert.Empty(t, df.run)
			}
		})
	}
}

// fakeEngine writes docker and podman scripts into a directory and returns
// the PATH that finds them first: `info` exits with infoStatus (1 is a
// client without a daemon, as on these machines), `build` appends its
// arguments to log.
func fakeEngine(t *testing.T, infoStatus int, log string) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\ncase \"$1\" in\n" +
		"info) exit " + strconv.Itoa(infoStatus) + " ;;\n" +
		"build) echo \"$(basename \"$0\") $*\" >>" + log + " ;;\n" +
		"*) exit 2 ;;\nesac\n"
	for _, name := range []string{"docker", "podman"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755))
	}
	return "PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

func TestMakeImage(t *testing.T) {
	root, err := testbin.RepoRoot()
	require.NoError(t, err)
	t.Run("without a container engine", func(t *testing.T) {
		// MAKE=echo: the fallback is dispatched to image-go without building
		// it (make image-check builds and checks the go-built images).
		log := filepath.Join(t.TempDir(), "builds")
		out, err := runMake(root, []string{fakeEngine(t, 1, log)}, "image", "MAKE=echo")
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "make image: no container engine answers")
		assert.Contains(t, string(out), "--no-print-directory image-go", "the Go builder takes over")
		assert.NoFileExists(t, log, "no engine build")
	})
	t.Run("with docker", func(t *testing.T) {
		makeBuild(t) // first, so that two builds never write _output/bin at once
		log := filepath.Join(t.TempDir(), "builds")
		out, err := runMake(root, []string{fakeEngine(t, 0, log)}, "image", "VERSION="+testVersion)
		require.NoError(t, err, "%s", out)
		builds, err := os.ReadFile(log)
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSuffix(string(builds), "\n"), "\n")
		require.Len(t, lines, 2, "%s", builds)
		for i, image := range []string{"serin", "serin-loadtester"} {
			dockerfile := map[string]string{"serin": "cmd/serin/Dockerfile", "serin-loadtester": "cmd/loadtester/Dockerfile"}[image]
			assert.True(t, strings.HasPrefix(lines[i], "docker build -f "+dockerfile+" -t ghcr.io/serin-dev/"+image+":"+testVersion+" "), lines[i])
			assert.True(t, strings.HasSuffix(lines[i], " _output/bin"), lines[i])
			assert.Contains(t, lines[i], "--label org.opencontainers.image.version="+testVersion, "the go-built images' labels too")
		}
	})
}
