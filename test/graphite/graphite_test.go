package graphite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/test/lib/must"
	"github.com/serin-dev/serin/test/lib/proc"
	"github.com/serin-dev/serin/test/lib/testbin"
)

const (
	username = "serin"
	password = "graphite-pass"
)

// graphiteServer is a running VictoriaMetrics: its render API behind basic
// auth, and its carbon plaintext listener.
type graphiteServer struct {
	url    string
	carbon string
}

func startGraphite(t *testing.T) graphiteServer {
	t.Helper()
	dir, err := testbin.Dir("SERIN_VICTORIAMETRICS_DIR")
	require.NoError(t, err)
	bin := filepath.Join(dir, "victoria-metrics")
	if _, err := os.Stat(bin); err != nil {
		t.Fatal(testbin.MissingError("victoriametrics", "about 4 minutes on 2 cores", bin))
	}
	data := t.TempDir()
	httpAddr, carbonAddr := freeAddr(t), freeAddr(t)
	p, err := proc.Start("victoria-metrics", filepath.Join(data, "victoria-metrics.log"), bin,
		"-storageDataPath="+filepath.Join(data, "data"),
		"-httpListenAddr="+httpAddr,
		"-graphiteListenAddr="+carbonAddr,
		"-httpAuth.username="+username, "-httpAuth.password="+password,
		// Answer from fresh data at once: no hidden last 30 s, no cached empty answers.
		"-search.latencyOffset=0s", "-search.disableCache",
		"-loggerLevel=WARN")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Stop(5*time.Second)) })
	s := graphiteServer{url: "http://" + httpAddr, carbon: carbonAddr}
	must.Eventually(t, time.Minute, 100*time.Millisecond, func() (bool, error) {
		select {
		case <-p.Exited():
			return false, p.Failure("exited before it was ready (%v)", p.ExitErr())
		default:
		}
		return s.get(t, "/health") == http.StatusOK, nil
	}, "victoria-metrics /health")
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// get returns the status of an authenticated GET, 0 when there is none.
func (s graphiteServer) get(t *testing.T, path string) int {
	resp, err := s.do(t, path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// renderSeries is a series of a format=json render answer.
type renderSeries struct {
	Target     string        `json:"target"`
	Datapoints [][2]*float64 `json:"datapoints"`
}

// render asks the render API for target over the last 10 minutes.
func (s graphiteServer) render(t *testing.T, target string) []renderSeries {
	t.Helper()
	var out []renderSeries
	require.NoError(t, json.Unmarshal(s.body(t, "/render?format=json&from=-10min&target="+target), &out))
	return out
}

// values are the distinct non-null values of each series of target, in
// time order.
func (s graphiteServer) values(t *testing.T, target string) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for _, series := range s.render(t, target) {
		for _, p := range series.Datapoints {
			if v := p[0]; v != nil && (len(out[series.Target]) == 0 || out[series.Target][len(out[series.Target])-1] != *v) {
				out[series.Target] = append(out[series.Target], *v)
			}
		}
	}
	return out
}

// body returns the body of an authenticated GET answered 200.
func (s graphiteServer) body(t *testing.T, path string) []byte {
	t.Helper()
	resp, err := s.do(t, path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return b
}

func (s graphiteServer) do(t *testing.T, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+path, nil)
	require.NoError(t, err)
	req.SetBasicAuth(username, password)
	return http.DefaultClient.Do(req)
}

// send writes points with carbon's plaintext protocol ("path value
// timestamp" lines) and makes them searchable at once.
func (s graphiteServer) send(t *testing.T, lines ...string) {
	t.Helper()
	conn, err := net.Dial("tcp", s.carbon)
	require.NoError(t, err)
	for _, l := range lines {
		_, err := fmt.Fprintln(conn, l)
		require.NoError(t, err)
	}
	require.NoError(t, conn.Close())
}

func point(path string, value float64, at time.Time) string {
	return path + " " + strconv.FormatFloat(value, 'g', -1, 64) + " " + strconv.FormatInt(at.Unix(), 10)
}

func newProvider(t *testing.T, s graphiteServer, credentials map[string][]byte) metrics.Provider {
	t.Helper()
	p, err := metrics.NewProvider(metrics.ProviderConfig{Type: metrics.TypeGraphite, Address: s.url, Credentials: credentials})
	require.NoError(t, err)
	return p
}

func TestGraphiteProvider(t *testing.T) {
	s := startGraphite(t)
	now := time.Now()
	s.send(t,
		point("serin.podinfo.errors", 3, now.Add(-180*time.Second)),
		point("serin.podinfo.errors", 5, now.Add(-120*time.Second)),
		point("serin.podinfo.errors", 7, now.Add(-60*time.Second)),
		point("serin.backend.errors", 10, now.Add(-60*time.Second)),
	)
	p := newProvider(t, s, map[string][]byte{"username": []byte(username), "password": []byte(password)})
	ctx := t.Context()
	// Wait, asking the render API directly, until every point is searchable
	// (VictoriaMetrics indexes new series in the background).
	want := map[string][]float64{"serin.podinfo.errors": {3, 5, 7}, "serin.backend.errors": {10}}
	must.Eventually(t, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
		_ = s.get(t, "/internal/force_flush")
		got := s.values(t, "serin.*.errors")
		return assert.ObjectsAreEqual(want, got), fmt.Errorf("render answers %v", got)
	}, "the carbon points are queryable")
	// The raw answer ends in nulls (the steps after the last point), which
	// the provider must skip.
	points := s.render(t, "serin.podinfo.errors")
	require.Len(t, points, 1)
	require.NotEmpty(t, points[0].Datapoints)
	require.Nil(t, points[0].Datapoints[len(points[0].Datapoints)-1][0], "the series ends in a null datapoint")

	tests := map[string]struct {
		query     string
		want      float64
		noValues  bool
		wantError string
	}{
		// The answer has null datapoints after the last point: they are skipped.
		"the last non-null datapoint": {query: "target=serin.podinfo.errors&from=-10min", want: 7},
		"a function over several series": {query: `
			target=sumSeries(serin.*.errors)
			&from=-10min`, want: 17},
		"until is the query's":   {query: "target=serin.podinfo.errors&from=-10min&until=-100s", want: 5},
		"an unknown series":      {query: "target=serin.nothing.here&from=-10min", noValues: true},
		"an unknown function":    {query: "target=sumSerie(serin.*.errors)&from=-10min", wantError: "unknown function"},
		"before the first point": {query: "target=serin.podinfo.errors&from=-1h&until=-30min", noValues: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := p.RunQuery(ctx, tt.query, time.Time{})
			switch {
			case tt.noValues:
				require.ErrorIs(t, err, metrics.ErrNoValues)
			case tt.wantError != "":
				require.Error(t, err)
				assert.False(t, errors.Is(err, metrics.ErrNoValues))
				assert.Contains(t, err.Error(), tt.wantError)
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestGraphiteProviderIsOnline(t *testing.T) {
	s := startGraphite(t)
	tests := map[string]struct {
		credentials map[string][]byte
		online      bool
	}{
		"with the password":   {credentials: map[string][]byte{"username": []byte(username), "password": []byte(password)}, online: true},
		"with a wrong one":    {credentials: map[string][]byte{"username": []byte(username), "password": []byte("nope")}},
		"without credentials": {},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			online, err := newProvider(t, s, tt.credentials).IsOnline(ctx)
			assert.Equal(t, tt.online, online)
			if tt.online {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "401")
			}
		})
	}
}
