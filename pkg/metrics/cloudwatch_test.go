package metrics

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testAWSKey    = "AKIDEXAMPLE"
	testAWSSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testAWSRegion = "eu-west-1"
	// getMetricDataPath is the operation's path in the Smithy RPC v2 CBOR
	// protocol, which the current SDK speaks to CloudWatch.
	getMetricDataPath = "/service/GraniteServiceVersion20100801/operation/GetMetricData"
)

// getMetricDataRequest is the part of a GetMetricData request the tests read.
type getMetricDataRequest struct {
	MetricDataQueries []map[string]any
	StartTime         time.Time
	EndTime           time.Time
	MaxDatapoints     int
	ScanBy            string
}

// fakeCloudWatch answers GetMetricData in the RPC v2 CBOR protocol with one
// canned answer, after checking the request's SigV4 signature against the
// test credentials, as AWS does.
type fakeCloudWatch struct {
	status int
	// body is encoded as CBOR.
	body map[string]any
	// queryError is the X-Amzn-Query-Error header of an error answer.
	queryError string

	mu       sync.Mutex
	requests []getMetricDataRequest
}

func (f *fakeCloudWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != getMetricDataPath || r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		http.NotFound(w, r)
		return
	}
	if err := verifySigV4(r, payload); err != nil {
		f.reply(w, http.StatusForbidden, "", map[string]any{"__type": "SignatureDoesNotMatch", "message": err.Error()})
		return
	}
	var req getMetricDataRequest
	if err := cbor.Unmarshal(payload, &req); err != nil {
		f.reply(w, http.StatusBadRequest, "", map[string]any{"__type": "SerializationException", "message": err.Error()})
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	f.reply(w, f.status, f.queryError, f.body)
}

func (f *fakeCloudWatch) reply(w http.ResponseWriter, status int, queryError string, body map[string]any) {
	enc, err := cbor.EncOptions{Time: cbor.TimeUnixDynamic, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		panic(err)
	}
	b, err := enc.Marshal(body)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("X-Amzn-Requestid", "req-1")
	if queryError != "" {
		w.Header().Set("X-Amzn-Query-Error", queryError)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// verifySigV4 signs a copy of the request's signed headers with the test
// secret and compares the Authorization header, so a request signed with
// another secret, region or service, or changed after signing, fails.
func verifySigV4(r *http.Request, payload []byte) error {
	auth := r.Header.Get("Authorization")
	_, signed, ok := strings.Cut(auth, "SignedHeaders=")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !ok {
		return errors.New("request is not signed with SigV4: " + auth)
	}
	signed, _, _ = strings.Cut(signed, ",")
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return err
	}
	check, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(payload))
	if err != nil {
		return err
	}
	for _, h := range strings.Split(signed, ";") {
		if h != "host" && h != "content-length" {
			check.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(payload)
	creds := aws.Credentials{AccessKeyID: testAWSKey, SecretAccessKey: testAWSSecret}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, check, hex.EncodeToString(sum[:]), "monitoring", testAWSRegion, at); err != nil {
		return err
	}
	if want := check.Header.Get("Authorization"); want != auth {
		return fmt.Errorf("signature mismatch: got %s, want %s", auth, want)
	}
	return nil
}

// awsEnv points the SDK's default configuration at srv with the test
// credentials in the environment, and away from this machine's files and
// instance metadata.
func awsEnv(t *testing.T, srv *httptest.Server, key, secret string) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
}

func newTestCloudWatch(t *testing.T, f *fakeCloudWatch, interval string) Provider {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	awsEnv(t, srv, testAWSKey, testAWSSecret)
	p, err := NewProvider(ProviderConfig{Type: TypeCloudWatch, Region: testAWSRegion, Interval: interval})
	require.NoError(t, err)
	return p
}

// errorRateQuery is the query of Flagger's CloudWatch docs.
const errorRateQuery = `[
  {"Id": "e1", "Expression": "m1 / m2", "Label": "ErrorRate"},
  {"Id": "m1", "ReturnData": false, "MetricStat": {"Period": 60, "Stat": "Sum", "Unit": "Count",
    "Metric": {"Namespace": "MyKubernetesCluster", "MetricName": "ErrorCount",
      "Dimensions": [{"Name": "appName", "Value": "podinfo.test"}]}}},
  {"Id": "m2", "ReturnData": false, "MetricStat": {"Period": 60, "Stat": "Sum", "Unit": "Count",
    "Metric": {"Namespace": "MyKubernetesCluster", "MetricName": "RequestCount",
      "Dimensions": [{"Name": "appName", "Value": "podinfo.test"}]}}}
]`

func metricDataResults(results ...map[string]any) map[string]any {
	list := make([]any, len(results))
	for i, r := range results {
		list[i] = r
	}
	return map[string]any{"MetricDataResults": list, "Messages": []any{}}
}

func result(id string, values ...float64) map[string]any {
	ts := make([]time.Time, len(values))
	for i := range values {
		ts[i] = time.Unix(1700000000-int64(60*i), 0)
	}
	return map[string]any{"Id": id, "Label": id, "StatusCode": "Complete", "Timestamps": ts, "Values": values, "Messages": []any{}}
}

func TestCloudWatchRunQuery(t *testing.T) {
	tests := map[string]struct {
		status     int
		body       map[string]any
		queryError string
		query      string
		want       float64
		noValues   bool
		wantError  string
	}{
		"newest value of the first result": {status: 200, want: 0.25,
			body: metricDataResults(result("e1", 0.25, 0.5, 0.75), result("e2", 9))},
		"no result":               {status: 200, noValues: true, body: metricDataResults()},
		"a result without values": {status: 200, noValues: true, body: metricDataResults(result("e1"))},
		"absent results":          {status: 200, noValues: true, body: map[string]any{}},
		"query is not JSON":       {query: "sum(x)", wantError: "not a JSON array of MetricDataQuery"},
		"query without Id":        {query: `[{"Expression": "m1"}]`, wantError: "Id"},
		"invalid parameter": {status: 400, queryError: "InvalidParameterValue;Sender",
			body:      map[string]any{"__type": "InvalidParameterValueException", "message": "The expression is invalid"},
			wantError: "StatusCode: 400"},
		"access denied": {status: 403,
			body:      map[string]any{"__type": "AccessDeniedException", "message": "not authorized to perform: cloudwatch:GetMetricData"},
			wantError: "not authorized to perform: cloudwatch:GetMetricData"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p := newTestCloudWatch(t, &fakeCloudWatch{status: tt.status, body: tt.body, queryError: tt.queryError}, "")
			query := tt.query
			if query == "" {
				query = errorRateQuery
			}

			got, err := p.RunQuery(t.Context(), query, time.Time{})
			switch {
			case tt.noValues:
				require.ErrorIs(t, err, ErrNoValues)
			case tt.wantError != "":
				require.Error(t, err)
				assert.NotErrorIs(t, err, ErrNoValues)
				assert.Contains(t, err.Error(), tt.wantError)
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestCloudWatchSendsQueriesAndWindow(t *testing.T) {
	f := &fakeCloudWatch{status: 200, body: metricDataResults(result("e1", 1))}
	p := newTestCloudWatch(t, f, "30s")
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

	_, err := p.RunQuery(t.Context(), errorRateQuery, at)
	require.NoError(t, err)

	require.Len(t, f.requests, 1)
	req := f.requests[0]
	// Flagger's window: the 10 metric intervals that end at the evaluation.
	assert.True(t, at.Equal(req.EndTime), "EndTime %s", req.EndTime)
	assert.True(t, at.Add(-5*time.Minute).Equal(req.StartTime), "StartTime %s", req.StartTime)
	assert.Equal(t, 20, req.MaxDatapoints)
	assert.Equal(t, "TimestampDescending", req.ScanBy)
	require.Len(t, req.MetricDataQueries, 3)
	assert.Equal(t, "e1", req.MetricDataQueries[0]["Id"])
	assert.Equal(t, "m1 / m2", req.MetricDataQueries[0]["Expression"])
	assert.Equal(t, false, req.MetricDataQueries[1]["ReturnData"])
	stat := req.MetricDataQueries[2]["MetricStat"].(map[any]any)
	metric := stat["Metric"].(map[any]any)
	assert.Equal(t, "RequestCount", metric["MetricName"])
	assert.Equal(t, "Count", stat["Unit"])
}

func TestCloudWatchWrongSecretIsRejected(t *testing.T) {
	srv := httptest.NewServer(&fakeCloudWatch{status: 200, body: metricDataResults(result("e1", 1))})
	t.Cleanup(srv.Close)
	awsEnv(t, srv, testAWSKey, "not-the-secret")
	p, err := NewProvider(ProviderConfig{Type: TypeCloudWatch, Region: testAWSRegion})
	require.NoError(t, err)

	_, err = p.RunQuery(t.Context(), errorRateQuery, time.Time{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signature mismatch")
	online, err := p.IsOnline(t.Context())
	assert.False(t, online)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unexpected status 403")
}

func TestCloudWatchIsOnline(t *testing.T) {
	tests := map[string]struct {
		status int
		body   map[string]any
		online bool
	}{
		"400 for the empty query means a signed, allowed request": {status: 400, online: true,
			body: map[string]any{"__type": "ValidationError", "message": "1 validation error detected"}},
		"an answer": {status: 200, online: true, body: metricDataResults()},
		"403 is a missing permission": {status: 403,
			body: map[string]any{"__type": "AccessDeniedException", "message": "not authorized"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p := newTestCloudWatch(t, &fakeCloudWatch{status: tt.status, body: tt.body}, "")

			online, err := p.IsOnline(t.Context())
			assert.Equal(t, tt.online, online)
			if tt.online {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestCloudWatchWithoutCredentialsIsOffline(t *testing.T) {
	f := &fakeCloudWatch{status: 400, body: map[string]any{"__type": "ValidationError", "message": "x"}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	awsEnv(t, srv, "", "")
	p, err := NewProvider(ProviderConfig{Type: TypeCloudWatch, Region: testAWSRegion})
	require.NoError(t, err)

	online, err := p.IsOnline(t.Context())
	assert.False(t, online)
	require.Error(t, err)
	assert.Empty(t, f.requests, "nothing is sent unsigned")
}

func TestCloudWatchConfigErrors(t *testing.T) {
	tests := map[string]struct {
		cfg       ProviderConfig
		wantError string
	}{
		"region is required": {cfg: ProviderConfig{}, wantError: "provider.region is required"},
		"bad interval":       {cfg: ProviderConfig{Region: "us-east-1", Interval: "often"}, wantError: `metric interval "often"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			tt.cfg.Type = TypeCloudWatch
			_, err := NewProvider(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantError)
		})
	}
}
