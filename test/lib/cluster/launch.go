package cluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/serin-dev/serin/test/lib/proc"
)

// launch starts the components, then waits until all of them are ready.
func (c *Cluster) launch(ctx context.Context, opts Options, comps ...component) error {
	began := time.Now()
	procs, err := c.spawn(comps)
	if err != nil {
		return err
	}
	return c.waitReady(ctx, opts, began, comps, procs)
}

// spawn starts the components' processes and records them for Stop.
func (c *Cluster) spawn(comps []component) ([]*proc.Process, error) {
	procs := make([]*proc.Process, len(comps))
	for i, comp := range comps {
		p, err := proc.Start(comp.name, filepath.Join(c.Dir, "logs", comp.name+".log"), comp.bin, comp.args...)
		if err != nil {
			return nil, err
		}
		c.procs = append(c.procs, p)
		procs[i] = p
	}
	return procs, nil
}

// waitReady waits in parallel until every component answers its readiness probe.
func (c *Cluster) waitReady(ctx context.Context, opts Options, began time.Time, comps []component, procs []*proc.Process) error {
	waits := make([]func() error, len(comps))
	for i, comp := range comps {
		waits[i] = func() error {
			if err := waitReady(ctx, procs[i], comp.timeout, comp.ready); err != nil {
				return err
			}
			opts.logf("cluster: %s (pid %d) ready in %s", comp.name, procs[i].PID(), since(began))
			return nil
		}
	}
	return parallel(waits...)
}

// withLogs adds to err the tail of the named components' logs, which most often explain a
// failure after start-up.
func (c *Cluster) withLogs(err error, names ...string) error {
	for _, p := range c.procs {
		if slices.Contains(names, p.Name()) {
			err = fmt.Errorf("%w\n%s log %s ends with:\n%s", err, p.Name(), p.LogPath(), proc.LogTail(p.LogPath(), proc.TailLimit))
		}
	}
	return err
}

// parallel runs fns concurrently and joins their errors.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
