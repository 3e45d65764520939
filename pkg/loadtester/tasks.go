package loadtester

import (
	"context"
	"errors"
	"sync"
	"time"
)

var (
	errShuttingDown   = errors.New("the load tester is shutting down")
	errAlreadyRunning = errors.New("command is already running")
)

// taskKey identifies an asynchronous command for de-duplication.
//
// Unlike Flagger, which hashes the concatenation canary+command (so canary
// a.b running "cx" and canary a.bc running "x" share a key) and checks
// "running" and marks it in two steps (so two racing requests both start),
// the key keeps its parts apart and is claimed under a lock.
type taskKey struct {
	canary  string
	command string
}

// tasks tracks the running commands: the de-duplication of asynchronous
// ones, and the wait for all of them on shutdown.
type tasks struct {
	timeout time.Duration
	base    context.Context
	cancel  context.CancelFunc

	mu       sync.Mutex
	running  map[taskKey]bool
	stopping bool
	wg       sync.WaitGroup
}

func newTasks(timeout time.Duration) *tasks {
	base, cancel := context.WithCancel(context.Background())
	return &tasks{timeout: timeout, base: base, cancel: cancel, running: map[taskKey]bool{}}
}

// begin registers a task and returns its context, bounded by the timeout
// and by shutdown, and the function to call when it ends. A non-nil key
// makes the task exclusive: errAlreadyRunning while another holds it.
func (t *tasks) begin(key *taskKey) (context.Context, func(), error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopping {
		return nil, nil, errShuttingDown
	}
	if key != nil {
		if t.running[*key] {
			return nil, nil, errAlreadyRunning
		}
		t.running[*key] = true
	}
	t.wg.Add(1)
	ctx, cancel := context.WithTimeout(t.base, t.timeout)
	return ctx, func() {
		cancel()
		if key != nil {
			t.mu.Lock()
			delete(t.running, *key)
			t.mu.Unlock()
		}
		t.wg.Done()
	}, nil
}

// isRunning reports whether an exclusive task holds key.
func (t *tasks) isRunning(key taskKey) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.running[key]
}

// shutdown refuses new tasks and waits for the running ones; when ctx ends
// first it cancels them, waits for them to be killed and returns ctx's
// error.
func (t *tasks) shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.stopping = true
	t.mu.Unlock()

	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		t.cancel()
		return nil
	case <-ctx.Done():
		t.cancel()
		<-done
		return ctx.Err()
	}
}
