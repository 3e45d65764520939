package metrics

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testProject      = "my-project"
	testClientEmail  = "flagger@my-project.iam.gserviceaccount.com"
	testAccessToken  = "ya29.test-token"
	jwtBearerGrant   = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	testMQLQuery     = "fetch k8s_container | metric 'istio.io/service/server/request_count' | within 5m"
	stackdriverQuery = "/v3/projects/" + testProject + "/timeSeries:query"
)

// testRSAKey is generated once: it is the service account's private key,
// and its public half checks the assertions the token endpoint receives.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// fakeGoogle is a token endpoint for the JWT-bearer grant of service
// accounts and the projects.timeSeries.query method, answering from a list
// of recorded pages indexed by page token ("" for the first).
type fakeGoogle struct {
	// pages are the answers by pageToken; status 0 means 200.
	pages  map[string]string
	status int

	mu         sync.Mutex
	tokens     int
	assertions []jwtClaims
	queries    []mqlRequest
	srv        *httptest.Server
}

type jwtClaims struct {
	Iss   string `json:"iss"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
}

func newFakeGoogle(t *testing.T, status int, pages map[string]string) *fakeGoogle {
	t.Helper()
	f := &fakeGoogle{pages: pages, status: status}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST "+stackdriverQuery, f.query)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// token checks the signed assertion as Google's token endpoint does and
// hands out testAccessToken.
func (f *fakeGoogle) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != jwtBearerGrant {
		http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
		return
	}
	claims, err := verifyRS256(r.Form.Get("assertion"), &testRSAKey().PublicKey)
	if err != nil {
		http.Error(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.tokens++
	f.assertions = append(f.assertions, claims)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3599}`, testAccessToken)
}

func (f *fakeGoogle) query(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if r.Header.Get("Authorization") != "Bearer "+testAccessToken {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprint(w, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`)
		return
	}
	var req mqlRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.queries = append(f.queries, req)
	f.mu.Unlock()
	if f.status != 0 {
		w.WriteHeader(f.status)
	}
	_, _ = fmt.Fprint(w, f.pages[req.PageToken])
}

// verifyRS256 checks a JWT's RS256 signature and returns its claims.
func verifyRS256(token string, pub *rsa.PublicKey) (jwtClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return jwtClaims{}, errors.New("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return jwtClaims{}, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return jwtClaims{}, err
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return jwtClaims{}, err
	}
	var c jwtClaims
	return c, json.Unmarshal(payload, &c)
}

// serviceAccountKey is a key file as the console downloads it, whose
// token_uri is the fake's.
func serviceAccountKey(t *testing.T, tokenURI string, key *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	b, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     testProject,
		"private_key_id": "0123456789abcdef",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   testClientEmail,
		"client_id":      "123456789",
		"auth_uri":       "https://accounts.google.com/o/oauth2/auth",
		"token_uri":      tokenURI,
	})
	require.NoError(t, err)
	return b
}

func newTestStackdriver(t *testing.T, f *fakeGoogle) Provider {
	t.Helper()
	p, err := newStackdriverAt(ProviderConfig{Type: TypeStackdriver, Credentials: map[string][]byte{
		"project": []byte(testProject), "serviceAccountKey": serviceAccountKey(t, f.srv.URL+"/token", testRSAKey()),
	}}, f.srv.URL)
	require.NoError(t, err)
	return p
}

// series is one TimeSeriesData with points of the given values (JSON).
func series(values ...string) string {
	points := make([]string, len(values))
	for i, v := range values {
		points[i] = `{"values": [` + v + `], "timeInterval": {"startTime": "2026-05-01T12:00:00Z", "endTime": "2026-05-01T12:00:00Z"}}`
	}
	return `{"labelValues": [{"stringValue": "podinfo"}], "pointData": [` + strings.Join(points, ",") + `]}`
}

func mqlPage(nextPageToken string, series ...string) string {
	return `{"timeSeriesDescriptor": {"labelDescriptors": [{"key": "resource.container_name"}], "pointDescriptors": [{"key": "value.request_count", "valueType": "DOUBLE", "metricKind": "GAUGE"}]},
	  "timeSeriesData": [` + strings.Join(series, ",") + `], "nextPageToken": "` + nextPageToken + `"}`
}

func TestStackdriverRunQuery(t *testing.T) {
	tests := map[string]struct {
		status    int
		pages     map[string]string
		want      float64
		noValues  bool
		wantError string
		wantPages int
	}{
		"first point of the first series": {want: 0.99, wantPages: 1,
			pages: map[string]string{"": mqlPage("", series(`{"doubleValue": 0.99}`, `{"doubleValue": 0.5}`), series(`{"doubleValue": 7}`))}},
		"int64 is a value": {want: 42, wantPages: 1,
			pages: map[string]string{"": mqlPage("", series(`{"int64Value": "42"}`))}},
		"empty pages are followed to the first series": {want: 3, wantPages: 3, pages: map[string]string{
			"": mqlPage("p2"), "p2": mqlPage("p3"), "p3": mqlPage("", series(`{"doubleValue": 3}`))}},
		"no series":             {noValues: true, wantPages: 1, pages: map[string]string{"": `{}`}},
		"no series on any page": {noValues: true, wantPages: 2, pages: map[string]string{"": mqlPage("p2"), "p2": mqlPage("")}},
		"a series without points": {noValues: true, wantPages: 1,
			pages: map[string]string{"": `{"timeSeriesData": [{"labelValues": [], "pointData": []}]}`}},
		"NaN is no data": {noValues: true, wantPages: 1,
			pages: map[string]string{"": mqlPage("", series(`{"doubleValue": "NaN"}`))}},
		"partial errors are told": {noValues: true, wantPages: 1, wantError: "partial errors: query timed out on a shard",
			pages: map[string]string{"": `{"partialErrors": [{"code": 4, "message": "query timed out on a shard"}]}`}},
		"a bool is not a number": {wantError: "neither a double nor an int64", wantPages: 1,
			pages: map[string]string{"": mqlPage("", series(`{"boolValue": true}`))}},
		"invalid MQL": {status: 400, wantError: "stackdriver error 400 INVALID_ARGUMENT: Line 1, column 7: unknown table", wantPages: 1,
			pages: map[string]string{"": `{"error": {"code": 400, "message": "Line 1, column 7: unknown table", "status": "INVALID_ARGUMENT"}}`}},
		"permission denied": {status: 403, wantError: "PERMISSION_DENIED", wantPages: 1,
			pages: map[string]string{"": `{"error": {"code": 403, "message": "Permission monitoring.timeSeries.list denied (or the resource may not exist).", "status": "PERMISSION_DENIED"}}`}},
		"not a Google error": {status: 502, wantError: "502 Bad Gateway: <html>bad gateway</html>", wantPages: 1,
			pages: map[string]string{"": `<html>bad gateway</html>`}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFakeGoogle(t, tt.status, tt.pages)
			p := newTestStackdriver(t, f)

			got, err := p.RunQuery(t.Context(), testMQLQuery, time.Time{})
			switch {
			case tt.noValues:
				require.ErrorIs(t, err, ErrNoValues)
				assert.Contains(t, err.Error(), tt.wantError)
			case tt.wantError != "":
				require.Error(t, err)
				assert.NotErrorIs(t, err, ErrNoValues)
				assert.Contains(t, err.Error(), tt.wantError)
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
			require.Len(t, f.queries, tt.wantPages)
			for _, q := range f.queries {
				assert.Equal(t, testMQLQuery, q.Query)
			}
		})
	}
}

func TestStackdriverServiceAccountToken(t *testing.T) {
	f := newFakeGoogle(t, 0, map[string]string{"": mqlPage("", series(`{"doubleValue": 1}`))})
	p := newTestStackdriver(t, f)

	for range 3 {
		_, err := p.RunQuery(t.Context(), testMQLQuery, time.Time{})
		require.NoError(t, err)
	}

	assert.Equal(t, 1, f.tokens, "the access token is reused until it expires")
	require.Len(t, f.assertions, 1)
	assert.Equal(t, jwtClaims{Iss: testClientEmail, Scope: stackdriverScope, Aud: f.srv.URL + "/token"}, f.assertions[0])
}

func TestStackdriverKeySignedByAnotherKeyIsRefused(t *testing.T) {
	f := newFakeGoogle(t, 0, map[string]string{"": mqlPage("", series(`{"doubleValue": 1}`))})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p, err := newStackdriverAt(ProviderConfig{Credentials: map[string][]byte{
		"project": []byte(testProject), "serviceAccountKey": serviceAccountKey(t, f.srv.URL+"/token", other),
	}}, f.srv.URL)
	require.NoError(t, err)

	_, err = p.RunQuery(t.Context(), testMQLQuery, time.Time{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid_grant")
	online, err := p.IsOnline(t.Context())
	assert.False(t, online)
	assert.Error(t, err)
	assert.Empty(t, f.queries)
}

func TestStackdriverApplicationDefaultCredentials(t *testing.T) {
	f := newFakeGoogle(t, 0, map[string]string{"": mqlPage("", series(`{"doubleValue": 5}`))})
	file := filepath.Join(t.TempDir(), "adc.json")
	require.NoError(t, os.WriteFile(file, serviceAccountKey(t, f.srv.URL+"/token", testRSAKey()), 0o600))
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", file)
	p, err := newStackdriverAt(ProviderConfig{Credentials: map[string][]byte{"project": []byte(testProject)}}, f.srv.URL)
	require.NoError(t, err)

	got, err := p.RunQuery(t.Context(), testMQLQuery, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 5.0, got)
	assert.Equal(t, 1, f.tokens)
}

func TestStackdriverIsOnline(t *testing.T) {
	tests := map[string]struct {
		status int
		body   string
		online bool
	}{
		"INVALID_ARGUMENT for the empty query": {status: 400, online: true,
			body: `{"error": {"code": 400, "message": "Query is empty.", "status": "INVALID_ARGUMENT"}}`},
		"an answer": {online: true, body: `{}`},
		"PERMISSION_DENIED": {status: 403,
			body: `{"error": {"code": 403, "message": "Permission denied", "status": "PERMISSION_DENIED"}}`},
		"a 400 that is no Google error": {status: 400, body: `bad request`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFakeGoogle(t, tt.status, map[string]string{"": tt.body})
			p := newTestStackdriver(t, f)

			online, err := p.IsOnline(t.Context())
			assert.Equal(t, tt.online, online)
			if tt.online {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			require.Len(t, f.queries, 1)
			assert.Empty(t, f.queries[0].Query)
		})
	}
}

func TestStackdriverConfigErrors(t *testing.T) {
	tests := map[string]struct {
		credentials map[string][]byte
		wantError   string
	}{
		"no secret":  {wantError: "stackdriver needs a secretRef"},
		"no project": {credentials: map[string][]byte{"serviceAccountKey": []byte(`{}`)}, wantError: "do not contain a project"},
		"key is not JSON": {credentials: map[string][]byte{"project": []byte("p"), "serviceAccountKey": []byte("not json")},
			wantError: "serviceAccountKey is not a Google credentials JSON"},
		"key without a private key": {credentials: map[string][]byte{"project": []byte("p"),
			"serviceAccountKey": []byte(`{"type": "service_account", "client_email": "a@b"}`)},
			wantError: "serviceAccountKey private_key: not a PEM block"},
		"key without a client_email": {credentials: map[string][]byte{"project": []byte("p"),
			"serviceAccountKey": []byte(`{"type": "service_account", "private_key": "x"}`)},
			wantError: "serviceAccountKey has no client_email"},
		"unknown credentials type": {credentials: map[string][]byte{"project": []byte("p"),
			"serviceAccountKey": []byte(`{"type": "magic"}`)},
			wantError: "stackdriver serviceAccountKey"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewProvider(ProviderConfig{Type: TypeStackdriver, Credentials: tt.credentials})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantError)
		})
	}
}
