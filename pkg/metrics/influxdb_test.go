package metrics

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const influxDBQueryPath = "POST /api/v2/query"

func influxDBProvider(t *testing.T, addr string, credentials map[string][]byte) Provider {
	t.Helper()
	return vendorProvider(t, ProviderConfig{Type: TypeInfluxDB, Address: addr, Credentials: credentials})
}

func TestInfluxDBRunQuery(t *testing.T) {
	tests := map[string]struct {
		answer answer
		outcome
	}{
		"double":                       {answer: answer{status: 200, file: "influxdb/query.csv"}, outcome: outcome{want: 99.25}},
		"count() is a long":            {answer: answer{status: 200, file: "influxdb/query-count.csv"}, outcome: outcome{want: 42}},
		"several tables: first record": {answer: answer{status: 200, file: "influxdb/query-several.csv"}, outcome: outcome{want: 1.5}},
		"no table is 0, as in Flagger": {answer: answer{status: 200, file: "influxdb/query-empty.csv"}, outcome: outcome{want: 0}},
		"null value is no value":       {answer: answer{status: 200, file: "influxdb/query-null.csv"}, outcome: outcome{noValues: true}},
		"empty cell takes the default": {answer: answer{status: 200, file: "influxdb/query-default.csv"}, outcome: outcome{want: 0.5}},
		"NaN is no value":              {answer: answer{status: 200, file: "influxdb/query-nan.csv"}, outcome: outcome{noValues: true}},
		"string value":                 {answer: answer{status: 200, file: "influxdb/query-string.csv"}, outcome: outcome{wantError: `_value "ok" is a "string", not a number`}},
		"error table":                  {answer: answer{status: 200, file: "influxdb/query-error-table.csv"}, outcome: outcome{wantError: "influxdb query failed: runtime error @6:8-6:15: count: schema collision"}},
		"compilation error": {answer: answer{status: 400, file: "influxdb/error-400.json"},
			outcome: outcome{wantError: `influxdb answered HTTP 400: {"code":"invalid","message":"compilation failed: error at @1:1-1:4: undefined identifier fro"}`}},
		"bad token": {answer: answer{status: 401, file: "influxdb/error-401.json"}, outcome: outcome{wantError: "unauthorized access"}},
		"unknown bucket": {answer: answer{status: 404, file: "influxdb/error-404.json"},
			outcome: outcome{wantError: `could not find bucket \"default\"`}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, addr := replay(t, map[string]answer{influxDBQueryPath: tt.answer})
			got, err := influxDBProvider(t, addr, vendorSecrets[TypeInfluxDB]).RunQuery(t.Context(), `from(bucket: "default") |> range(start: -2h)`, at)
			tt.check(t, got, err)
		})
	}
}

// TestInfluxDBRequest checks the request InfluxData's client would send:
// the org, the token, Flux with every annotation; and the evaluation time
// as the query's now.
func TestInfluxDBRequest(t *testing.T) {
	query := "from(bucket: \"istio\")\n  |> range(start: -5m)\n  |> count()"
	tests := map[string]struct {
		credentials map[string][]byte
		at          time.Time
		wantOrg     string
		wantAuth    string
		wantNow     string
	}{
		"token and org": {credentials: vendorSecrets[TypeInfluxDB], at: at, wantOrg: "acme", wantAuth: "Token influx-token",
			wantNow: "2023-11-14T22:23:20Z"},
		"no secretRef: no token, as in Flagger": {},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			api, addr := replay(t, map[string]answer{influxDBQueryPath: {status: 200, file: "influxdb/query-count.csv"}})
			_, err := influxDBProvider(t, addr, tt.credentials).RunQuery(t.Context(), query, tt.at)
			require.NoError(t, err)

			req := api.last(t)
			assert.Equal(t, tt.wantOrg, req.query.Get("org"))
			assert.Equal(t, tt.wantAuth, req.header.Get("Authorization"))
			assert.Equal(t, "application/json", req.header.Get("Content-Type"))
			var body map[string]any
			require.NoError(t, json.Unmarshal([]byte(req.body), &body))
			assert.Equal(t, query, body["query"])
			assert.Equal(t, "flux", body["type"])
			assert.Equal(t, map[string]any{"annotations": []any{"datatype", "group", "default"}, "delimiter": ",", "header": true},
				body["dialect"])
			if tt.wantNow == "" {
				assert.NotContains(t, body, "now")
			} else {
				assert.Equal(t, tt.wantNow, body["now"])
			}
		})
	}
}

func TestInfluxDBIsOnline(t *testing.T) {
	tests := map[string]struct {
		answer    answer
		want      bool
		wantError string
	}{
		"records of any type": {answer: answer{status: 200, file: "influxdb/query-string.csv"}, want: true},
		"no record":           {answer: answer{status: 200, file: "influxdb/query-empty.csv"}, want: true},
		"no default bucket":   {answer: answer{status: 404, file: "influxdb/error-404.json"}, wantError: "influxdb answered HTTP 404"},
		"query failed":        {answer: answer{status: 200, file: "influxdb/query-error-table.csv"}, wantError: "influxdb query failed"},
		"token refused":       {answer: answer{status: 401, file: "influxdb/error-401.json"}, wantError: "unauthorized access"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			api, addr := replay(t, map[string]answer{influxDBQueryPath: tt.answer})
			ok, err := influxDBProvider(t, addr, vendorSecrets[TypeInfluxDB]).IsOnline(t.Context())
			assert.Equal(t, tt.want, ok)
			if tt.wantError != "" {
				assert.ErrorContains(t, err, tt.wantError)
			} else {
				assert.NoError(t, err)
			}
			var body map[string]any
			require.NoError(t, json.Unmarshal([]byte(api.last(t).body), &body))
			assert.Equal(t, `from(bucket: "default") |> range(start: -2h)`, body["query"])
		})
	}
}
