package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunServesAndShutsDown starts the wired binary on a free port, opens a
// gate, stops it as SIGTERM would, and checks the gate survived into the
// state file.
func TestRunServesAndShutsDown(t *testing.T) {
	o, err := parse("-state-file="+filepath.Join(t.TempDir(), "gates.json"), "-shutdown-grace=2s")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	logger := logrus.New()
	logger.SetOutput(io.Discard)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, logrus.NewEntry(logger), o, ln) }()
	url := "http://" + ln.Addr().String()

	resp, err := http.Get(url + "/healthz")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Post(url+"/gate/open", "application/json", strings.NewReader(`{"name":"podinfo","namespace":"test"}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)

	resp, err = http.Get(url + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Contains(t, string(body), "go_goroutines")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the context ended")
	}

	gates, err := newStore(o, noClient)
	require.NoError(t, err)
	open, err := gates.Load(context.Background())
	require.NoError(t, err)
	assert.Len(t, open, 1)
}

func TestRunFailsOnUnwritableState(t *testing.T) {
	o, err := parse("-state-file=" + filepath.Join(t.TempDir(), "missing", "gates.json"))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	err = run(context.Background(), logrus.NewEntry(logger), o, ln)
	assert.ErrorContains(t, err, "the gate state cannot be saved")
}
