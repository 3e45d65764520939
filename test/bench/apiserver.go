package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"time"
)

// apiserverRequests reads kube-apiserver's apiserver_request_total: the
// requests of every client, by "verb resource[/subresource]". Set beside the
// operator's own requests, it shows who keeps the API server busy.
func (e *env) apiserverRequests(ctx context.Context) (requests, error) {
	data, err := e.kube.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	return parseRequestTotal(data), nil
}

func parseRequestTotal(text []byte) requests {
	out := requests{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "apiserver_request_total{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(line, "} ")
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		l := parseLabels(labels)
		key := strings.ToLower(l["verb"]) + " " + l["resource"]
		if l["subresource"] != "" {
			key += "/" + l["subresource"]
		}
		out[key] += int(n)
	}
	return out
}

// parseLabels splits `a="x",b="y"` (values without escaped quotes, as in
// apiserver_request_total).
func parseLabels(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		name, rest, ok := strings.Cut(s, `="`)
		if !ok {
			break
		}
		value, rest, _ := strings.Cut(rest, `"`)
		out[name] = value
		s = strings.TrimPrefix(rest, ",")
	}
	return out
}

// sub returns the requests of r made since before.
func (r requests) sub(before requests) requests {
	out := requests{}
	for k, n := range r {
		if d := n - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// machineBusy returns the CPU time the whole machine spent busy, from
// /proc/stat: the bench shares its cores with whatever else runs.
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	var busy int64
	// user nice system idle iowait irq softirq steal: all but idle and iowait.
	for i, f := range fields[1:min(9, len(fields))] {
		if i == 3 || i == 4 {
			continue
		}
		v, _ := strconv.ParseInt(f, 10, 64)
		busy += v
	}
	return time.Duration(busy) * time.Second / clockTicks
}
