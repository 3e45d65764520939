package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/serin-dev/serin/test/lib/proc"
)

// RestartAPIServer stops kube-apiserver (SIGTERM, SIGKILL after 5 s), leaves it down for
// down, then starts it again with the same flags, port and certificates, and returns once it
// is ready. etcd and every other component keep running, so clients see their connections and
// watches drop and must come back by themselves: it is a fault to inject, as chaos tests do.
// It must not run concurrently with Stop or another restart.
func (c *Cluster) RestartAPIServer(ctx context.Context, down time.Duration) error {
	i := -1
	for j, p := range c.procs {
		if p.Name() == c.apiserver.name {
			i = j
		}
	}
	if i < 0 {
		return fmt.Errorf("cluster: no %s process to restart", c.apiserver.name)
	}
	if err := c.procs[i].Stop(stopGrace); err != nil {
		return fmt.Errorf("cluster: stopping %s: %w", c.apiserver.name, err)
	}
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(down):
	}
	comp := c.apiserver
	p, err := proc.Start(comp.name, filepath.Join(c.Dir, "logs", comp.name+".log"), comp.bin, comp.args...)
	if err != nil {
		return err
	}
	c.procs[i] = p
	return waitReady(ctx, p, comp.timeout, comp.ready)
}
