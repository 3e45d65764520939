package kubelet

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/serin-dev/serin/test/lib/sandbox"
)

// probeTimeout bounds one probe.
const probeTimeout = time.Second

var probeClient = &http.Client{
	Timeout: probeTimeout,
	// A probe is a fresh connection each time, as the kubelet's.
	Transport: &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// probeLoop runs the readiness probe of one process until it exits, and records readiness
// while that process is still the current one.
func (r *podRun) probeLoop(p *sandbox.Pod, pr probe, gen int) {
	set := func(ready bool) {
		r.mu.Lock()
		current := r.gen == gen && r.state.running && r.state.ready != ready
		if current {
			r.state.ready = ready
		}
		r.mu.Unlock()
		if current {
			r.notify()
		}
	}
	if pr.port == 0 {
		set(true)
		return
	}
	select {
	case <-p.Exited():
		return
	case <-time.After(pr.initialDelay):
	}
	tick := time.NewTicker(probePeriod)
	defer tick.Stop()
	failures := 0
	for {
		if err := check(r.ip, pr); err == nil {
			failures = 0
			set(true)
		} else if failures++; failures >= pr.failureThreshold {
			set(false)
		}
		select {
		case <-p.Exited():
			return
		case <-tick.C:
		}
	}
}

// check runs one probe: an HTTP GET that must answer 2xx or 3xx, or a TCP connect.
func check(ip string, pr probe) error {
	addr := net.JoinHostPort(ip, strconv.Itoa(pr.port))
	if pr.path == "" {
		conn, err := net.DialTimeout("tcp", addr, probeTimeout)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	resp, err := probeClient.Get("http://" + addr + pr.path)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}
