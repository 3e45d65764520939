package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"
)

// New Relic's Insights query API
// (https://docs.newrelic.com/docs/apis/insights-apis/query-insights-event-data-api/)
// and the secret keys Flagger reads.
const (
	newRelicDefaultAddress = "https://insights-api.newrelic.com"
	newRelicAccountID      = "newrelic_account_id"
	newRelicQueryKey       = "newrelic_query_key"
	// newRelicOnlineQuery is the query of Flagger's IsOnline.
	newRelicOnlineQuery = "SELECT * FROM Metric"
)

// newRelic runs NRQL queries through the Insights query API.
type newRelic struct {
	api     *httpAPI
	account string
	header  http.Header
	span    time.Duration
}

var _ Provider = (*newRelic)(nil)

func newNewRelic(cfg ProviderConfig) (Provider, error) {
	api, err := newHTTPAPI(cfg, newRelicDefaultAddress, DefaultQueryTimeout)
	if err != nil {
		return nil, err
	}
	account, err := secretValue(cfg, newRelicAccountID)
	if err != nil {
		return nil, err
	}
	key, err := secretValue(cfg, newRelicQueryKey)
	if err != nil {
		return nil, err
	}
	interval, err := metricInterval(cfg)
	if err != nil {
		return nil, err
	}
	return &newRelic{api: api, account: account, header: http.Header{"X-Query-Key": {key}, "Accept": {"application/json"}},
		span: interval}, nil
}

// newRelicAnswer is an Insights answer: one object per selected function,
// keyed by the function's name ("result" for an arithmetic expression), or
// facets and timeSeries instead of results for such queries.
type newRelicAnswer struct {
	Results []map[string]json.RawMessage `json:"results"`
	Error   string                       `json:"error"`
}

// RunQuery appends the metric's window to the NRQL query and returns the
// value of its single result. Flagger appends "SINCE <interval seconds>
// seconds ago"; so does Serin for a query at the zero time.
//
// Unlike Flagger, a query evaluated at a given time (the controller's) names
// its window in epoch milliseconds, SINCE at-interval UNTIL at, the same
// window, so that it can be asked again as it was; and a result keyed by its
// function (average, count, ...) is read too, where Flagger reads only
// "result" and reports no values for the rest.
func (n *newRelic) RunQuery(ctx context.Context, query string, at time.Time) (float64, error) {
	body, err := n.ask(ctx, query, at)
	if err != nil {
		return 0, err
	}
	var ans newRelicAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return 0, errNotJSON(TypeNewRelic, err, body)
	}
	if ans.Error != "" {
		return 0, fmt.Errorf("newrelic query failed: %s", cut(ans.Error))
	}
	// As in Flagger, anything but one result (none, or a FACET or
	// TIMESERIES query's shape) is no value.
	if len(ans.Results) != 1 {
		return 0, noValues("newrelic returned %d results, want 1: %s", len(ans.Results), cut(string(body)))
	}
	raw, ok := ans.Results[0]["result"]
	if !ok && len(ans.Results[0]) == 1 {
		for _, v := range ans.Results[0] {
			raw = v
		}
	}
	var v *float64
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil || v == nil || math.IsNaN(*v) {
		return 0, noValues("newrelic result is not a number: %s", cut(string(body)))
	}
	return *v, nil
}

// ask sends a query with its window appended.
func (n *newRelic) ask(ctx context.Context, query string, at time.Time) ([]byte, error) {
	nrql := fmt.Sprintf("%s SINCE %d seconds ago", query, int64(n.span.Seconds()))
	if !at.IsZero() {
		from, to := window(at, n.span)
		nrql = fmt.Sprintf("%s SINCE %d UNTIL %d", query, from.UnixMilli(), to.UnixMilli())
	}
	u := n.api.endpoint("/v1/accounts/"+url.PathEscape(n.account)+"/query", url.Values{"nrql": {nrql}})
	return n.api.do(ctx, request{method: http.MethodGet, url: u, header: n.header})
}

// IsOnline runs "SELECT * FROM Metric" and expects a 2xx answer, as Flagger
// does.
func (n *newRelic) IsOnline(ctx context.Context) (bool, error) {
	if _, err := n.ask(ctx, newRelicOnlineQuery, time.Time{}); err != nil {
		return false, err
	}
	return true, nil
}

func (n *newRelic) closeIdleConnections() { n.api.closeIdleConnections() }
