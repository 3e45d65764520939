package install

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/proc"
)

// process is a binary of `make build` running beside the test cluster, as
// KWOK's pods only pretend to; its log is in the cluster's logs directory.
type process struct {
	*proc.Process
}

// startProcess runs bin with args and the test's environment; t.Cleanup
// stops it with SIGTERM, as the kubelet would.
func startProcess(t *testing.T, c *cluster.Cluster, bin string, args []string) *process {
	t.Helper()
	name := filepath.Base(bin)
	p, err := proc.Start(name, filepath.Join(c.Dir, "logs", name+".log"), bin, args...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Stop(15*time.Second)) })
	return &process{p}
}

// logs returns what the process wrote so far.
func (p *process) logs(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(p.LogPath())
	require.NoError(t, err)
	return string(data)
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.Exited():
		return true
	default:
		return false
	}
}

// forbidden returns the lines of the log where the API server refused a
// request: client-go's reflectors and the operator's own errors both say so.
func (p *process) forbidden(t *testing.T) []string {
	t.Helper()
	var lines []string
	for line := range strings.Lines(p.logs(t)) {
		if strings.Contains(strings.ToLower(line), "forbidden") {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	return lines
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
