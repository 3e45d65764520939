package metrics

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Splunk Observability Cloud (SignalFx) APIs
// (https://dev.splunk.com/observability/reference/api/signalflow/latest)
// and the secret key Flagger reads.
const (
	splunkToken = "sf_token_key"
	// splunkWindowIntervals is how many metric intervals a program's
	// computation spans, as in Flagger.
	splunkWindowIntervals = 10
)

// splunk runs SignalFlow programs.
//
// Flagger runs them with SignalFx's Go client over a WebSocket
// (wss://stream.<realm>.signalfx.com/v2/signalflow/connect). Serin runs the
// same computation through SignalFlow's HTTP interface, POST
// /v2/signalflow/execute on the same stream host, which answers the same
// messages as Server-Sent Events: the same start, stop and immediate
// parameters and the same data points, without a WebSocket client.
type splunk struct {
	api *httpAPI
	// streamHost is the SignalFlow host, stream.<realm>... for an address
	// api.<realm>... or stream.<realm>...; any other host serves both.
	streamHost string
	header     http.Header
	span       time.Duration
}

var _ Provider = (*splunk)(nil)

func newSplunk(cfg ProviderConfig) (Provider, error) {
	if cfg.Address == "" {
		return nil, fmt.Errorf("splunk provider needs an address (https://api.<realm>.signalfx.com)")
	}
	var streamHost string
	cfg.Address, streamHost = splunkHosts(cfg.Address)
	api, err := newHTTPAPI(cfg, "", DefaultQueryTimeout)
	if err != nil {
		return nil, err
	}
	token, err := secretValue(cfg, splunkToken)
	if err != nil {
		return nil, err
	}
	interval, err := metricInterval(cfg)
	if err != nil {
		return nil, err
	}
	if streamHost == "" {
		streamHost = api.base.Host
	}
	return &splunk{api: api, streamHost: streamHost, header: http.Header{"X-Sf-Token": {token}},
		span: splunkWindowIntervals * interval}, nil
}

// splunkHosts returns the REST API address of a realm address given either
// as its API URL (https://api.<realm>.signalfx.com) or, as Flagger also
// accepts, its stream URL (wss://stream.<realm>.signalfx.com), and the
// stream host ("" when the host is neither: a proxy serving both).
func splunkHosts(address string) (api, streamHost string) {
	u, err := url.Parse(address)
	if err != nil {
		return address, ""
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	switch host := u.Host; {
	case strings.HasPrefix(host, "api."):
		streamHost = "stream." + strings.TrimPrefix(host, "api.")
	case strings.HasPrefix(host, "stream."):
		streamHost, u.Host = host, "api."+strings.TrimPrefix(host, "stream.")
	}
	return u.String(), streamHost
}

// RunQuery executes a program over the ten metric intervals that end at at,
// immediately (without waiting for late data), and returns the newest non-null
// value of its one output series, as Flagger does. No non-null value is no
// value; values of several series are an error.
func (s *splunk) RunQuery(ctx context.Context, query string, at time.Time) (float64, error) {
	from, to := window(at, s.span)
	u := s.api.endpoint("/v2/signalflow/execute", url.Values{
		"start":     {strconv.FormatInt(from.UnixMilli(), 10)},
		"stop":      {strconv.FormatInt(to.UnixMilli(), 10)},
		"immediate": {"true"},
	})
	u.Host = s.streamHost
	header := s.header.Clone()
	header.Set("Content-Type", "text/plain")
	header.Set("Accept", "text/event-stream")

	ctx, cancel := context.WithTimeout(ctx, s.api.timeout)
	defer cancel()
	resp, err := s.api.open(ctx, request{method: http.MethodPost, url: u, header: header, body: query})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	points, err := readSignalFlow(bufio.NewReader(s.api.capped(resp.Body)))
	if err != nil {
		return 0, err
	}
	if len(points) == 0 {
		return 0, noValues("the splunk computation published no value")
	}
	for _, p := range points[1:] {
		if p.TSID != points[0].TSID {
			return 0, fmt.Errorf("the splunk computation published several series (%s, %s, ...); a metric must publish one: aggregate it, e.g. .sum()",
				points[0].TSID, p.TSID)
		}
	}
	return *points[len(points)-1].Value, nil
}

// signalFlowPoint is a data point of a SignalFlow data message.
type signalFlowPoint struct {
	TSID  string   `json:"tsId"`
	Value *float64 `json:"value"`
}

// readSignalFlow reads the events of a computation until its end and returns
// its non-null data points in order. An error message or an aborted channel
// is an error.
func readSignalFlow(r *bufio.Reader) ([]signalFlowPoint, error) {
	var points []signalFlowPoint
	for {
		ev, err := readEvent(r)
		if err != nil {
			return nil, fmt.Errorf("reading splunk computation: %w", err)
		}
		if ev == nil {
			return points, nil // the stream ended
		}
		switch ev.name {
		case "data":
			var msg struct {
				Data []signalFlowPoint `json:"data"`
			}
			if err := json.Unmarshal(ev.data, &msg); err != nil {
				return nil, errNotJSON(TypeSplunk, err, ev.data)
			}
			for _, p := range msg.Data {
				if p.Value != nil {
					points = append(points, p)
				}
			}
		case "error":
			return nil, fmt.Errorf("splunk computation failed: %s", cut(string(ev.data)))
		case "control-message":
			var msg struct {
				Event     string          `json:"event"`
				AbortInfo json.RawMessage `json:"abortInfo"`
			}
			if err := json.Unmarshal(ev.data, &msg); err != nil {
				return nil, errNotJSON(TypeSplunk, err, ev.data)
			}
			switch msg.Event {
			case "END_OF_CHANNEL":
				return points, nil
			case "CHANNEL_ABORT":
				return nil, fmt.Errorf("splunk computation aborted: %s", cut(string(msg.AbortInfo)))
			}
		}
	}
}

// sseEvent is one Server-Sent Event: its name and its data lines joined.
type sseEvent struct {
	name string
	data []byte
}

// readEvent reads the next event of a text/event-stream, nil at its end.
// Comments and ids are skipped; an event without a name is "message".
func readEvent(r *bufio.Reader) (*sseEvent, error) {
	ev := sseEvent{}
	seen := false
	for {
		line, err := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line != "" {
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				ev.name, seen = value, true
			case "data":
				if ev.data != nil {
					ev.data = append(ev.data, '\n')
				}
				ev.data, seen = append(ev.data, value...), true
			}
		}
		switch {
		case err != nil && !errors.Is(err, io.EOF):
			return nil, err
		case (line == "" || err != nil) && seen:
			return finish(ev), nil
		case err != nil:
			return nil, nil
		}
	}
}

func finish(ev sseEvent) *sseEvent {
	if ev.name == "" {
		ev.name = "message"
	}
	return &ev
}

// IsOnline lists one metric (GET /v2/metric?limit=1 on the API host) and
// expects a 2xx answer, as Flagger does.
func (s *splunk) IsOnline(ctx context.Context) (bool, error) {
	u := s.api.endpoint("/v2/metric", url.Values{"limit": {"1"}})
	return s.api.online(ctx, request{method: http.MethodGet, url: u, header: s.header})
}

func (s *splunk) closeIdleConnections() { s.api.closeIdleConnections() }
