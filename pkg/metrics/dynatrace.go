package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Dynatrace's metrics API v2
// (https://docs.dynatrace.com/docs/dynatrace-api/environment-api/metric-v2/get-data-points)
// and the secret key Flagger reads.
const (
	dynatraceToken = "dynatrace_token"
	// dynatraceWindowIntervals is how many metric intervals a query spans,
	// as in Flagger.
	dynatraceWindowIntervals = 10
)

// dynatrace runs metric selectors through /api/v2/metrics/query.
type dynatrace struct {
	api    *httpAPI
	header http.Header
	span   time.Duration
}

var _ Provider = (*dynatrace)(nil)

func newDynatrace(cfg ProviderConfig) (Provider, error) {
	api, err := newHTTPAPI(cfg, "", DefaultQueryTimeout)
	if err != nil {
		return nil, err
	}
	token, err := secretValue(cfg, dynatraceToken)
	if err != nil {
		return nil, err
	}
	interval, err := metricInterval(cfg)
	if err != nil {
		return nil, err
	}
	return &dynatrace{api: api, header: http.Header{"Authorization": {"Api-Token " + token}},
		span: dynatraceWindowIntervals * interval}, nil
}

// dynatraceAnswer is a /api/v2/metrics/query answer: per metric of the
// selector, one series per dimension tuple, each with its values (null for
// a timeslot without data).
type dynatraceAnswer struct {
	Result []struct {
		MetricID string `json:"metricId"`
		Data     []struct {
			Values []*float64 `json:"values"`
		} `json:"data"`
	} `json:"result"`
}

// RunQuery asks for one data point (resolution Inf) over the ten metric
// intervals that end at at, and returns, as Flagger does, the first value
// of the last series of the selector's first metric. The data-points API
// has no pages (its nextPageKey and pageSize parameters were removed in
// Dynatrace 1.211): one answer is whole.
//
// Unlike Flagger, which reads a null value as 0, a null is no value.
func (d *dynatrace) RunQuery(ctx context.Context, query string, at time.Time) (float64, error) {
	from, to := window(at, d.span)
	u := d.api.endpoint("/api/v2/metrics/query", url.Values{
		"metricSelector": {query},
		"resolution":     {"Inf"},
		"from":           {strconv.FormatInt(from.UnixMilli(), 10)},
		"to":             {strconv.FormatInt(to.UnixMilli(), 10)},
	})
	body, err := d.api.do(ctx, request{method: http.MethodGet, url: u, header: d.header})
	if err != nil {
		return 0, err
	}
	var ans dynatraceAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return 0, errNotJSON(TypeDynatrace, err, body)
	}
	if len(ans.Result) == 0 {
		return 0, noValues("dynatrace returned no metric")
	}
	data := ans.Result[0].Data
	if len(data) == 0 {
		return 0, noValues("dynatrace metric %s has no series", ans.Result[0].MetricID)
	}
	values := data[len(data)-1].Values
	if len(values) == 0 || values[0] == nil || math.IsNaN(*values[0]) {
		return 0, noValues("dynatrace metric %s has no value", ans.Result[0].MetricID)
	}
	return *values[0], nil
}

// IsOnline lists one metric (/api/v2/metrics?pageSize=1) and expects a 2xx
// answer, as Flagger does; the list's later pages are not needed.
func (d *dynatrace) IsOnline(ctx context.Context) (bool, error) {
	u := d.api.endpoint("/api/v2/metrics", url.Values{"pageSize": {"1"}})
	ok, err := d.api.online(ctx, request{method: http.MethodGet, url: u, header: d.header})
	if err != nil {
		return false, fmt.Errorf("listing dynatrace metrics: %w", err)
	}
	return ok, nil
}

func (d *dynatrace) closeIdleConnections() { d.api.closeIdleConnections() }
