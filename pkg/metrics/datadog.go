package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Datadog's API (https://docs.datadoghq.com/api/latest/metrics/) and the
// secret keys Flagger reads.
const (
	datadogDefaultAddress = "https://api.datadoghq.com"
	datadogAPIKey         = "datadog_api_key"
	datadogAppKey         = "datadog_application_key"
	// datadogWindowIntervals is how many metric intervals a query spans, as
	// in Flagger: the oldest point of the window is a complete bucket.
	datadogWindowIntervals = 10
)

// datadog runs metric queries through Datadog's v1 timeseries query API.
type datadog struct {
	api    *httpAPI
	header http.Header
	span   time.Duration
}

var _ Provider = (*datadog)(nil)

func newDatadog(cfg ProviderConfig) (Provider, error) {
	api, err := newHTTPAPI(cfg, datadogDefaultAddress, DefaultQueryTimeout)
	if err != nil {
		return nil, err
	}
	apiKey, err := secretValue(cfg, datadogAPIKey)
	if err != nil {
		return nil, err
	}
	appKey, err := secretValue(cfg, datadogAppKey)
	if err != nil {
		return nil, err
	}
	interval, err := metricInterval(cfg)
	if err != nil {
		return nil, err
	}
	return &datadog{
		api:    api,
		header: http.Header{"Dd-Api-Key": {apiKey}, "Dd-Application-Key": {appKey}},
		span:   datadogWindowIntervals * interval,
	}, nil
}

// datadogAnswer is the part of a /api/v1/query answer that matters. A point
// is [timestamp ms, value], the value null where the bucket has no data.
type datadogAnswer struct {
	Status string   `json:"status"`
	Error  string   `json:"error"`
	Errors []string `json:"errors"`
	Series []struct {
		Metric    string       `json:"metric"`
		Pointlist [][]*float64 `json:"pointlist"`
	} `json:"series"`
}

// RunQuery asks for the ten metric intervals that end at at and returns the
// oldest point of the first series, as Flagger does: the newest bucket is
// usually incomplete. A query with several series is not an error (Flagger
// takes the first one, and Datadog orders them by their group).
//
// Unlike Flagger, which reads a null point as 0, a null point is no value.
func (d *datadog) RunQuery(ctx context.Context, query string, at time.Time) (float64, error) {
	from, to := window(at, d.span)
	u := d.api.endpoint("/api/v1/query", url.Values{
		"query": {query},
		"from":  {strconv.FormatInt(from.Unix(), 10)},
		"to":    {strconv.FormatInt(to.Unix(), 10)},
	})
	body, err := d.api.do(ctx, request{method: http.MethodGet, url: u, header: d.header})
	if err != nil {
		return 0, err
	}
	var ans datadogAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return 0, errNotJSON(TypeDatadog, err, body)
	}
	if ans.Status == "error" || ans.Error != "" || len(ans.Errors) > 0 {
		msgs := ans.Errors
		if ans.Error != "" {
			msgs = append([]string{ans.Error}, msgs...)
		}
		return 0, fmt.Errorf("datadog query failed: %s", cut(strings.Join(msgs, "; ")))
	}
	if len(ans.Series) == 0 {
		return 0, noValues("datadog returned no series")
	}
	points := ans.Series[0].Pointlist
	if len(points) == 0 {
		return 0, noValues("datadog series %s has no points", ans.Series[0].Metric)
	}
	if len(points[0]) < 2 || points[0][1] == nil || math.IsNaN(*points[0][1]) {
		return 0, noValues("the oldest point of datadog series %s is null", ans.Series[0].Metric)
	}
	return *points[0][1], nil
}

// IsOnline validates the keys with /api/v1/validate, as Flagger does.
func (d *datadog) IsOnline(ctx context.Context) (bool, error) {
	return d.api.online(ctx, request{method: http.MethodGet, url: d.api.endpoint("/api/v1/validate", nil), header: d.header})
}

func (d *datadog) closeIdleConnections() { d.api.closeIdleConnections() }
