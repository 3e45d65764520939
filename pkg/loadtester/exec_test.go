package loadtester

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunProcessOutputAndErrors(t *testing.T) {
	out, err := runProcess(context.Background(), "sh", "-c", "echo out; echo err >&2")
	require.NoError(t, err)
	assert.Equal(t, "out\nerr\n", string(out))

	out, err = runProcess(context.Background(), "sh", "-c", "echo partial; exit 2")
	assert.EqualError(t, err, "exit status 2")
	assert.Equal(t, "partial\n", string(out))
}

func TestRunProcessCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := runProcess(ctx, "sleep", "5")
	assert.ErrorIs(t, err, errCanceled)
}

// With stray children holding the output open, Wait would block until
// they exit unless the whole process group is killed. waitDelay is raised
// so that only the group kill can end this run before sleep does.
func TestRunProcessTimeoutKillsTheProcessGroup(t *testing.T) {
	defer func(d time.Duration) { waitDelay = d }(waitDelay)
	waitDelay = time.Minute

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := runProcess(ctx, "sh", "-c", "sleep 30 | cat; echo never")
	require.ErrorIs(t, err, errTimedOut)
	assert.Less(t, time.Since(begin), 20*time.Second)
}

func TestBoundedBuffer(t *testing.T) {
	var b boundedBuffer
	chunk := bytes.Repeat([]byte("x"), maxOutput/2+1)
	for range 3 {
		n, err := b.Write(chunk)
		require.NoError(t, err)
		assert.Equal(t, len(chunk), n, "a write is never short")
	}
	out := string(b.Bytes())
	assert.True(t, strings.HasSuffix(out, "\n[output truncated]\n"))
	assert.Len(t, out, maxOutput+len("\n[output truncated]\n"))
}
