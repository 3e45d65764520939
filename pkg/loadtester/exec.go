package loadtester

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// maxOutput bounds the output kept from one command: it ends up in a log
// line or an HTTP response, and a chatty command must not fill the memory.
const maxOutput = 1 << 20

// waitDelay is how long a killed command's stray children may hold its
// output open before Wait gives up on them. A variable for tests.
var waitDelay = 2 * time.Second

// runProcess runs a program, bounded by ctx, and returns its combined
// output. Unlike Flagger, which kills only the shell when a command times
// out (leaving `sleep` or `hey` of a pipeline running, and the task waiting
// for them), the whole process group is killed.
func runProcess(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out boundedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = waitDelay
	killProcessGroup(cmd)
	err := cmd.Run()
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", contextReason(ctx), err)
	}
	return out.Bytes(), err
}

// contextReason says why ctx ended in words a canary event can carry.
func contextReason(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errTimedOut
	}
	return errCanceled
}

var (
	errTimedOut = errors.New("timed out")
	errCanceled = errors.New("canceled by shutdown")
)

// boundedBuffer keeps the first maxOutput bytes written to it. exec calls
// Write from one goroutine at a time when Stdout and Stderr are the same
// writer, so it needs no lock.
type boundedBuffer struct {
	buf       []byte
	truncated bool
}

// Write always reports the whole of p as written: the command must not see
// a short write because we stopped keeping its output.
func (b *boundedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := maxOutput - len(b.buf); n > room {
		b.truncated = true
		p = p[:room]
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

// Bytes returns the output, marked when it was cut.
func (b *boundedBuffer) Bytes() []byte {
	if b.truncated {
		return append(b.buf[:len(b.buf):len(b.buf)], "\n[output truncated]\n"...)
	}
	return b.buf
}
