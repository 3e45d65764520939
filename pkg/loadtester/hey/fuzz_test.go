package hey

import (
	"errors"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/pkg/loadtester/shlex"
)

// FuzzParse parses arbitrary hey command lines, split into words as the load
// tester splits them. Parse never panics, and what it accepts is a run the
// in-process generator can carry out: an http(s) URL, at least one worker, a
// request budget that covers every worker unless the run is timed,
// non-negative finite durations and rates, and a rate whose tick interval is
// not rounded down to zero (time.NewTicker panics on it).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		target, "-z 1m -q 10 -c 2 " + target, "-n 10 -c 20 " + target, "-n 0 " + target, "-c 0 -z 1s " + target,
		"-m post -d '{\"a\": 1}' -T application/json -H 'X-Canary: insider' -A text/plain -U serin " + target,
		"-a user:pass -host example.com -x http://proxy:3128 -h2 -disable-compression -disable-keepalive -disable-redirects " + target,
		"-o csv " + target, "-cpus 2 -t 0 " + target, "-q -1 " + target, "-q NaN " + target, "-q 1e10 " + target,
		"-t 9223372036854775807 " + target, "-z -1s " + target, "-H nocolon " + target, "-a :pass " + target,
		"ftp://x/", "http://", "-D /etc/hostname " + target, "-unknown " + target, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := shlex.Words(line)
		if err != nil {
			return
		}
		o, err := Parse(shlex.Texts(words))
		if err != nil {
			require.NotEmpty(t, err.Error())
			if errors.Is(err, ErrUnsupported) {
				require.Contains(t, err.Error(), "-o")
			}
			return
		}
		u, err := url.Parse(o.URL)
		require.NoError(t, err, "URL %q", o.URL)
		require.Contains(t, []string{"http", "https"}, u.Scheme)
		require.NotEmpty(t, u.Host)
		require.GreaterOrEqual(t, o.Concurrency, 1, "workers")
		require.GreaterOrEqual(t, o.Duration, time.Duration(0), "-z")
		if o.Duration > 0 {
			require.Zero(t, o.Requests, "-n of a timed run")
		} else {
			require.GreaterOrEqual(t, o.Requests, o.Concurrency, "every worker has a request")
		}
		require.False(t, math.IsNaN(o.QPS) || math.IsInf(o.QPS, 0), "-q %v", o.QPS)
		require.GreaterOrEqual(t, o.QPS, 0.0, "-q")
		if o.QPS > 0 {
			require.Positive(t, time.Duration(float64(time.Second)/o.QPS), "the tick interval of -q %v", o.QPS)
		}
		require.GreaterOrEqual(t, o.Timeout, time.Duration(0), "-t")
		require.Zero(t, o.Timeout%time.Second, "-t is whole seconds")
		require.Equal(t, strings.ToUpper(o.Method), o.Method)
		require.True(t, strings.HasSuffix(o.Header.Get("User-Agent"), userAgent), "user agent %q", o.Header.Get("User-Agent"))
		require.NotEmpty(t, o.Header.Get("Content-Type"))
		if o.Proxy != nil {
			require.NotEmpty(t, o.Proxy.Host)
		}
	})
}
