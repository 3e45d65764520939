package notifier

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestBearerTokenOnlyForSlackAndGeneric(t *testing.T) {
	for _, typ := range Types {
		t.Run(typ, func(t *testing.T) {
			rcv := newReceiver(t, http.StatusOK)
			n, err := New(flaggerv1.AlertProviderSpec{Type: typ}, rcv.URL, "xoxb-1", testConfig())
			require.NoError(t, err)
			require.NoError(t, n.Post(context.Background(), thresholdMessage()))

			want := ""
			if typ == TypeSlack || typ == TypeGeneric {
				want = "Bearer xoxb-1"
			}
			assert.Equal(t, want, rcv.requests()[0].header.Get("Authorization"))
		})
	}
}

func TestDiscordPostsToSlackEndpoint(t *testing.T) {
	cases := map[string]string{
		"/api/webhooks/1/abc":        "/api/webhooks/1/abc/slack",
		"/api/webhooks/1/abc/":       "/api/webhooks/1/abc/slack",
		"/api/webhooks/1/abc/slack":  "/api/webhooks/1/abc/slack",
		"/api/webhooks/1/abc?wait=1": "/api/webhooks/1/abc/slack",
	}
	for path, want := range cases {
		t.Run(path, func(t *testing.T) {
			rcv := newReceiver(t, http.StatusOK)
			n, err := New(flaggerv1.AlertProviderSpec{Type: TypeDiscord}, rcv.URL+path, "", testConfig())
			require.NoError(t, err)
			require.NoError(t, n.Post(context.Background(), thresholdMessage()))
			assert.Equal(t, want, rcv.requests()[0].path)
		})
	}
	rcv := newReceiver(t, http.StatusOK)
	n, err := New(flaggerv1.AlertProviderSpec{Type: TypeDiscord}, rcv.URL+"/hook?wait=true", "", testConfig())
	require.NoError(t, err)
	require.NoError(t, n.Post(context.Background(), thresholdMessage()))
	assert.Equal(t, "wait=true", rcv.requests()[0].query, "the query is kept")
}

// TestProxy checks that a provider's proxy receives the post, for an address
// that does not resolve.
func TestProxy(t *testing.T) {
	var seen *url.URL
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.URL
		w.WriteHeader(http.StatusOK)
	}))
	defer proxy.Close()
	spec := flaggerv1.AlertProviderSpec{Type: TypeMSTeams, Proxy: proxy.URL}

	n, err := New(spec, "http://teams.example.invalid/webhook/x", "", testConfig())
	require.NoError(t, err)
	require.NoError(t, n.Post(context.Background(), thresholdMessage()))

	require.NotNil(t, seen)
	assert.Equal(t, "http://teams.example.invalid/webhook/x", seen.String())
}

func TestStatusCodes(t *testing.T) {
	cases := []struct {
		status int
		ok     bool
	}{
		{http.StatusOK, true},
		{http.StatusAccepted, true},
		{http.StatusNoContent, true},
		{http.StatusBadRequest, false},
		{http.StatusNotFound, false},
		{http.StatusInternalServerError, false},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			rcv := newReceiver(t, tc.status)
			rcv.answer = "invalid_payload\n"
			n, err := New(flaggerv1.AlertProviderSpec{Type: TypeSlack}, rcv.URL+"/services/T0/B0/secret", "", testConfig())
			require.NoError(t, err)

			err = n.Post(context.Background(), thresholdMessage())

			if tc.ok {
				assert.NoError(t, err)
				return
			}
			var se *StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.status, se.Code)
			assert.Equal(t, "invalid_payload", se.Body)
			assert.NotContains(t, err.Error(), "secret", "webhook URLs are credentials")
		})
	}
}

func TestConnectionErrorHidesURL(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	address := rcv.URL + "/services/T0/B0/secret"
	rcv.Close()
	n, err := New(flaggerv1.AlertProviderSpec{Type: TypeSlack}, address, "", testConfig())
	require.NoError(t, err)

	err = n.Post(context.Background(), thresholdMessage())

	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
	assert.Contains(t, err.Error(), rcv.Listener.Addr().String())
}

func TestPostTimeout(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	rcv.delay = 5 * time.Second
	cfg := testConfig()
	cfg.Timeout = 50 * time.Millisecond
	n, err := New(flaggerv1.AlertProviderSpec{Type: TypeGeneric}, rcv.URL, "", cfg)
	require.NoError(t, err)

	start := time.Now()
	err = n.Post(context.Background(), thresholdMessage())

	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name    string
		spec    flaggerv1.AlertProviderSpec
		address string
		want    string
	}{
		{"unknown type", flaggerv1.AlertProviderSpec{Type: "pagerduty"}, "https://x", `unsupported alert provider type "pagerduty": use one of slack, msteams, discord, rocket, gchat, generic`},
		{"no address", flaggerv1.AlertProviderSpec{Type: TypeSlack}, "", "slack alert provider: address: not an absolute http(s) URL"},
		{"relative address", flaggerv1.AlertProviderSpec{Type: TypeGChat}, "/hooks/secret", "gchat alert provider: address: not an absolute http(s) URL"},
		{"bad scheme", flaggerv1.AlertProviderSpec{Type: TypeGeneric}, "ftp://host/secret", "generic alert provider: address: not an absolute http(s) URL"},
		{"bad proxy", flaggerv1.AlertProviderSpec{Type: TypeMSTeams, Proxy: "proxy:3128"}, "https://x", "msteams alert provider: proxy: not an absolute http(s) URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.spec, tc.address, "", Config{})
			require.EqualError(t, err, tc.want)
			assert.NotContains(t, err.Error(), "secret")
		})
	}
	_, err := New(flaggerv1.AlertProviderSpec{Type: "opsgenie"}, "https://x", "", Config{})
	assert.True(t, errors.Is(err, ErrUnsupportedType))
}

func TestNewFallsBackToSpecAddress(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	spec := flaggerv1.AlertProviderSpec{Type: TypeRocket, Address: rcv.URL + "/hooks/x", Channel: "on-call", Username: "serin"}
	n, err := New(spec, "", "", testConfig())
	require.NoError(t, err)
	require.NoError(t, n.Post(context.Background(), thresholdMessage()))

	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/hooks/x", reqs[0].path)
	assert.Equal(t, "on-call", lookup(t, reqs[0].body, "channel"))
	assert.Equal(t, "serin", lookup(t, reqs[0].body, "username"))
}
