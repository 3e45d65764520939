package metrics

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

const (
	// stackdriverEndpoint is Cloud Monitoring's REST API.
	stackdriverEndpoint = "https://monitoring.googleapis.com"
	// stackdriverScope is the read-only scope Flagger's docs ask for.
	stackdriverScope = "https://www.googleapis.com/auth/monitoring.read"
	// stackdriverMaxPages bounds the pages read while looking for the first
	// series: a server that keeps sending empty pages must not hold a check.
	stackdriverMaxPages = 100
)

// stackdriver runs MQL queries through Cloud Monitoring's
// projects.timeSeries.query REST method. Flagger uses the gRPC client of the
// same method; its answer and errors are the same, and the REST call with
// golang.org/x/oauth2 avoids the Cloud client libraries.
type stackdriver struct {
	queryURL  string
	client    *http.Client
	timeout   time.Duration
	transport *http.Transport
}

var _ Provider = (*stackdriver)(nil)

func newStackdriver(cfg ProviderConfig) (*stackdriver, error) {
	return newStackdriverAt(cfg, stackdriverEndpoint)
}

// newStackdriverAt reads the secret's project (required) and
// serviceAccountKey (the JSON key; without it, Application Default
// Credentials such as GKE Workload Identity), as Flagger does, and sends
// queries to endpoint.
func newStackdriverAt(cfg ProviderConfig, endpoint string) (*stackdriver, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("stackdriver needs a secretRef whose secret holds the project key")
	}
	project := strings.TrimSpace(string(cfg.Credentials["project"]))
	if project == "" {
		return nil, errors.New("stackdriver credentials do not contain a project")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Token requests get their own bound: oauth2.Transport fetches a token
	// without the query's context.
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: transport, Timeout: timeout})
	var source oauth2.TokenSource
	if key, ok := cfg.Credentials["serviceAccountKey"]; ok {
		creds, err := googleCredentials(tokenCtx, key)
		if err != nil {
			return nil, err
		}
		source = creds.TokenSource
	} else {
		source = &defaultCredentials{ctx: tokenCtx}
	}
	return &stackdriver{
		queryURL:  strings.TrimSuffix(endpoint, "/") + "/v3/projects/" + url.PathEscape(project) + "/timeSeries:query",
		client:    &http.Client{Transport: &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, source), Base: transport}},
		timeout:   timeout,
		transport: transport,
	}, nil
}

// googleCredentials reads a credentials JSON of any type Google's clients
// take (Flagger passes the key to them as it is), a service account key
// most often.
func googleCredentials(ctx context.Context, key []byte) (*google.Credentials, error) {
	var f struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(key, &f); err != nil || f.Type == "" {
		return nil, errors.New("stackdriver serviceAccountKey is not a Google credentials JSON (with a type)")
	}
	// A service account key is only used at the first token: check it now,
	// so that a broken key fails the template, not every query.
	if f.Type == string(google.ServiceAccount) {
		if f.ClientEmail == "" {
			return nil, errors.New("stackdriver serviceAccountKey has no client_email")
		}
		if err := checkPrivateKey(f.PrivateKey); err != nil {
			return nil, fmt.Errorf("stackdriver serviceAccountKey private_key: %w", err)
		}
	}
	creds, err := google.CredentialsFromJSONWithType(ctx, key, google.CredentialsType(f.Type), stackdriverScope)
	if err != nil {
		return nil, fmt.Errorf("stackdriver serviceAccountKey: %w", err)
	}
	return creds, nil
}

// checkPrivateKey parses a PEM private key as the JWT signer will.
func checkPrivateKey(key string) error {
	block, _ := pem.Decode([]byte(key))
	if block == nil {
		return errors.New("not a PEM block")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		return errors.New("not a PKCS#8 or PKCS#1 private key")
	}
	return nil
}

// RunQuery runs an MQL query and returns the newest point of the first time
// series, reading pages until one has a series, as Flagger's iterator does.
// No series, point or value is no data. MQL sets its own window (within),
// relative to the server's clock, so the evaluation time is not sent.
//
// Unlike Flagger, which reads every value as a double and so an INT64 as 0,
// an INT64 value is read as it is, and a value that is not a number is an
// error.
func (s *stackdriver) RunQuery(ctx context.Context, query string, _ time.Time) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var partial []string
	token := ""
	for range stackdriverMaxPages {
		page, err := s.query(ctx, query, token)
		if err != nil {
			return 0, err
		}
		for _, e := range page.PartialErrors {
			partial = append(partial, e.Message)
		}
		if len(page.TimeSeriesData) > 0 {
			return firstPoint(page.TimeSeriesData[0])
		}
		if page.NextPageToken == "" {
			break
		}
		token = page.NextPageToken
	}
	if len(partial) > 0 {
		return 0, fmt.Errorf("stackdriver returned no time series (partial errors: %s): %w", strings.Join(partial, "; "), ErrNoValues)
	}
	return 0, fmt.Errorf("stackdriver returned no time series: %w", ErrNoValues)
}

// firstPoint is the first value of a series' first point, the one Flagger
// reads (MQL lists a series' points newest first).
func firstPoint(ts mqlTimeSeries) (float64, error) {
	if len(ts.PointData) == 0 || len(ts.PointData[0].Values) == 0 {
		return 0, fmt.Errorf("stackdriver returned a time series without points: %w", ErrNoValues)
	}
	v, err := ts.PointData[0].Values[0].float()
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) {
		return 0, fmt.Errorf("stackdriver returned NaN: %w", ErrNoValues)
	}
	return v, nil
}

// IsOnline sends an empty query, as Flagger does: Cloud Monitoring answers
// an authorised caller with INVALID_ARGUMENT, and anything else (a token
// that cannot be had, PERMISSION_DENIED without monitoring.read) means
// offline.
func (s *stackdriver) IsOnline(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.query(ctx, "", "")
	var apiErr *googleAPIError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &apiErr) && apiErr.Status == "INVALID_ARGUMENT":
		return true, nil
	default:
		return false, err
	}
}

// closeIdleConnections releases the pooled connections of an evicted provider.
func (s *stackdriver) closeIdleConnections() {
	s.transport.CloseIdleConnections()
}

// query posts one QueryTimeSeriesRequest and decodes its answer.
func (s *stackdriver) query(ctx context.Context, query, pageToken string) (*mqlResponse, error) {
	body, err := json.Marshal(mqlRequest{Query: query, PageToken: pageToken})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.queryURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("stackdriver request failed: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("reading the stackdriver response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Error *googleAPIError `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != nil {
			return nil, e.Error
		}
		return nil, fmt.Errorf("stackdriver answered %s: %s", resp.Status, answerDetail(b))
	}
	var out mqlResponse
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("stackdriver response is not a QueryTimeSeriesResponse: %w: %s", err, answerDetail(b))
	}
	return &out, nil
}

// mqlRequest is a QueryTimeSeriesRequest without its name (in the URL).
type mqlRequest struct {
	Query     string `json:"query"`
	PageToken string `json:"pageToken,omitempty"`
}

// mqlResponse is the part of a QueryTimeSeriesResponse that is read.
type mqlResponse struct {
	TimeSeriesData []mqlTimeSeries `json:"timeSeriesData"`
	NextPageToken  string          `json:"nextPageToken"`
	PartialErrors  []struct {
		Message string `json:"message"`
	} `json:"partialErrors"`
}

type mqlTimeSeries struct {
	PointData []struct {
		Values []typedValue `json:"values"`
	} `json:"pointData"`
}

// typedValue is a TypedValue in proto3 JSON: a double is a number or a
// string ("NaN", "Infinity"), an int64 a string.
type typedValue struct {
	DoubleValue json.RawMessage `json:"doubleValue"`
	Int64Value  json.RawMessage `json:"int64Value"`
}

func (v typedValue) float() (float64, error) {
	raw := v.DoubleValue
	if raw == nil {
		raw = v.Int64Value
	}
	if raw == nil {
		return 0, errors.New("stackdriver value is neither a double nor an int64: make the query return a number")
	}
	s := string(raw)
	if unquoted, err := strconv.Unquote(s); err == nil {
		s = unquoted
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("stackdriver value %s is not a number", raw)
	}
	return f, nil
}

// googleAPIError is the error of a Google REST API.
type googleAPIError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
}

func (e *googleAPIError) Error() string {
	return fmt.Sprintf("stackdriver error %d %s: %s", e.Code, e.Status, e.Message)
}

// defaultCredentials finds Application Default Credentials on first use,
// not when the provider is built: on a machine without them the lookup
// probes the metadata server, which must not hold the provider cache.
// A failed lookup is tried again at the next token.
type defaultCredentials struct {
	ctx context.Context

	mu     sync.Mutex
	source oauth2.TokenSource
}

func (d *defaultCredentials) Token() (*oauth2.Token, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.source == nil {
		creds, err := google.FindDefaultCredentials(d.ctx, stackdriverScope)
		if err != nil {
			return nil, fmt.Errorf("stackdriver: no serviceAccountKey and no default credentials: %w", err)
		}
		d.source = creds.TokenSource
	}
	return d.source.Token()
}
