package metrics

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// InfluxDB 2's query API (https://docs.influxdata.com/influxdb/v2/api/#operation/PostQuery)
// and the secret keys Flagger reads.
const (
	influxDBToken = "token"
	influxDBOrg   = "org"
	// influxDBTimeout is Flagger's timeout for an InfluxDB query.
	influxDBTimeout = 15 * time.Second
	// influxDBOnlineQuery is the query of Flagger's IsOnline.
	influxDBOnlineQuery = `from(bucket: "default") |> range(start: -2h)`
)

// influxDB runs Flux queries.
//
// Flagger uses InfluxData's Go client, whose query API is one POST
// /api/v2/query answered with annotated CSV; Serin sends the same request
// and reads the CSV itself (encoding/csv and the #datatype annotation are
// all a value needs), rather than adding the client and its dependencies.
type influxDB struct {
	api    *httpAPI
	org    string
	header http.Header
}

var _ Provider = (*influxDB)(nil)

func newInfluxDB(cfg ProviderConfig) (Provider, error) {
	api, err := newHTTPAPI(cfg, "", influxDBTimeout)
	if err != nil {
		return nil, err
	}
	p := &influxDB{api: api, header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/csv"}}}
	// As in Flagger, a template without a secretRef queries without a
	// token (InfluxDB 1.8's Flux endpoint, or an open server); one with a
	// secretRef needs both keys.
	if cfg.Credentials != nil {
		token, err := secretValue(cfg, influxDBToken)
		if err != nil {
			return nil, err
		}
		if p.org, err = secretValue(cfg, influxDBOrg); err != nil {
			return nil, err
		}
		p.header.Set("Authorization", "Token "+token)
	}
	return p, nil
}

// influxDBQuery is the body of POST /api/v2/query as InfluxData's client
// sends it: Flux, with every annotation.
type influxDBQuery struct {
	Query string `json:"query"`
	Type  string `json:"type"`
	// Now is the time the query's relative ranges are taken from; empty
	// means the server's now.
	Now     string `json:"now,omitempty"`
	Dialect struct {
		Annotations []string `json:"annotations"`
		Delimiter   string   `json:"delimiter"`
		Header      bool     `json:"header"`
	} `json:"dialect"`
}

// RunQuery runs a Flux query (which names its own range) and returns the
// _value of its first record, as Flagger does. A null _value is no value.
//
// As in Flagger, a query that returns no table is 0, not no value: Flux
// queries that count matching rows (filter |> count(), as in Flagger's docs)
// return no table when nothing matches, and count nothing as 0.
//
// Unlike Flagger, which reads only doubles and fails on any other type, a
// long or unsignedLong _value (what count() returns) is read as a number;
// and an error table in the answer (a query that failed while streaming) is
// an error, where Flagger reads it as 0. A query evaluated at a given time
// (the controller's) is sent with that time as its now, so that it can be
// asked again as it was; Flagger leaves now to the server.
func (p *influxDB) RunQuery(ctx context.Context, query string, at time.Time) (float64, error) {
	answer, err := p.ask(ctx, query, at)
	if err != nil {
		return 0, err
	}
	v, err := firstFluxValue(answer)
	if err != nil {
		return 0, err
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// ask runs a query and returns its annotated CSV answer.
func (p *influxDB) ask(ctx context.Context, query string, at time.Time) (string, error) {
	q := influxDBQuery{Query: query, Type: "flux"}
	if !at.IsZero() {
		q.Now = at.UTC().Format(time.RFC3339Nano)
	}
	q.Dialect.Annotations = []string{"datatype", "group", "default"}
	q.Dialect.Delimiter = ","
	q.Dialect.Header = true
	body, err := json.Marshal(q)
	if err != nil {
		return "", err
	}
	params := url.Values{}
	if p.org != "" {
		params.Set("org", p.org)
	}
	answer, err := p.api.do(ctx, request{method: http.MethodPost, url: p.api.endpoint("/api/v2/query", params),
		header: p.header, body: string(body)})
	return string(answer), err
}

// fluxTable is the annotations and header of a table of annotated CSV
// (https://docs.influxdata.com/influxdb/v2/reference/syntax/annotated-csv/).
// Each table starts with its annotations and a header row; an empty cell
// takes the #default annotation's value.
type fluxTable struct {
	datatypes, defaults, header []string
}

// firstFluxRecord returns the first record of an annotated CSV answer and
// its table, a nil record when there is none. An error table (a query that
// failed after the answer began) is an error.
func firstFluxRecord(answer string) ([]string, fluxTable, error) {
	r := csv.NewReader(strings.NewReader(answer))
	r.FieldsPerRecord = -1
	var t fluxTable
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil, t, nil
		}
		if err != nil {
			return nil, t, fmt.Errorf("influxdb answered invalid CSV: %w", err)
		}
		switch {
		case strings.HasPrefix(row[0], "#"):
			// A new table's annotations: its header row follows.
			t.header = nil
			switch row[0] {
			case "#datatype":
				t.datatypes = row
			case "#default":
				t.defaults = row
			}
		case t.header == nil:
			t.header = row
		case cell(t.header, 1) == "error":
			return nil, t, fmt.Errorf("influxdb query failed: %s", cut(cell(row, 1)))
		default:
			return row, t, nil
		}
	}
}

// firstFluxValue returns the _value of an answer's first record, nil when
// there is no record.
func firstFluxValue(answer string) (*float64, error) {
	row, t, err := firstFluxRecord(answer)
	if err != nil || row == nil {
		return nil, err
	}
	return fluxValue(row, t)
}

// fluxValue is the _value of a record.
func fluxValue(row []string, t fluxTable) (*float64, error) {
	i := indexOf(t.header, "_value")
	if i < 0 {
		return nil, noValues("influxdb record has no _value column: %s", cut(strings.Join(t.header, ",")))
	}
	s := cell(row, i)
	if s == "" {
		s = cell(t.defaults, i)
	}
	if s == "" {
		return nil, noValues("influxdb record has a null _value")
	}
	var v float64
	var err error
	switch typ := cell(t.datatypes, i); typ {
	case "double":
		v, err = strconv.ParseFloat(s, 64)
	case "long":
		var n int64
		n, err = strconv.ParseInt(s, 10, 64)
		v = float64(n)
	case "unsignedLong":
		var n uint64
		n, err = strconv.ParseUint(s, 10, 64)
		v = float64(n)
	default:
		return nil, fmt.Errorf("influxdb record's _value %q is a %q, not a number", cut(s), typ)
	}
	if err != nil {
		return nil, fmt.Errorf("influxdb record's _value %q: %w", cut(s), err)
	}
	if math.IsNaN(v) {
		return nil, noValues("influxdb record's _value is NaN")
	}
	return &v, nil
}

func cell(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

func indexOf(row []string, s string) int {
	for i, c := range row {
		if c == s {
			return i
		}
	}
	return -1
}

// IsOnline runs Flagger's query over the last two hours of the "default"
// bucket and expects it to succeed, whatever it returns.
func (p *influxDB) IsOnline(ctx context.Context) (bool, error) {
	answer, err := p.ask(ctx, influxDBOnlineQuery, time.Time{})
	if err == nil {
		_, _, err = firstFluxRecord(answer)
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

func (p *influxDB) closeIdleConnections() { p.api.closeIdleConnections() }
