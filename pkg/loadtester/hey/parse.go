package hey

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// hey's defaults, from its usage text.
const (
	// DefaultRequests is -n.
	DefaultRequests = 200
	// DefaultConcurrency is -c.
	DefaultConcurrency = 50
	// DefaultMethod is -m.
	DefaultMethod = http.MethodGet
	// DefaultContentType is -T.
	DefaultContentType = "text/html"
	// DefaultTimeout is -t.
	DefaultTimeout = 20 * time.Second
)

// maxQPS is the highest -q: one request per nanosecond and worker, the
// shortest tick there is.
const maxQPS = float64(time.Second)

// userAgent is the one hey sends, so dashboards that filter load-test
// traffic by user agent keep working.
const userAgent = "hey/0.0.1"

// ErrUnsupported is returned by Parse for a hey flag the in-process
// generator cannot honour; the command should run the hey binary instead.
var ErrUnsupported = errors.New("hey flag not supported in-process")

// Options is one load run, as hey's flags describe it.
type Options struct {
	// URL is the target.
	URL string
	// Method is the HTTP method, upper-cased (-m).
	Method string
	// Header holds -H, -T, -A and -U; the user agent is always set.
	Header http.Header
	// Host overrides the Host header (-host).
	Host string
	// Body is the request body (-d).
	Body []byte
	// BodyFile is read for the body when set (-D); it wins over Body.
	BodyFile string
	// Username and Password are the basic-auth credentials (-a user:pass).
	Username, Password string
	// Requests is the total number of requests (-n); ignored when Duration
	// is set.
	Requests int
	// Concurrency is the number of workers (-c).
	Concurrency int
	// QPS limits each worker's requests per second (-q); zero means none.
	QPS float64
	// Duration runs the load for this long instead of Requests (-z).
	Duration time.Duration
	// Timeout bounds each request (-t); zero means none.
	Timeout time.Duration
	// Proxy is an HTTP proxy URL (-x).
	Proxy *url.URL
	// HTTP2 enables HTTP/2 over TLS (-h2); hey speaks HTTP/1.1 otherwise.
	HTTP2 bool
	// DisableCompression, DisableKeepAlives and DisableRedirects are hey's
	// flags of the same names.
	DisableCompression, DisableKeepAlives, DisableRedirects bool
}

// rawFlags are hey's flags as typed, before validation.
type rawFlags struct {
	requests, concurrency, timeoutSeconds, cpus int
	qps                                         float64
	duration                                    time.Duration
	method, body, bodyFile, contentType         string
	accept, agent, auth, host, proxy, output    string
	headers                                     headerFlag
	h2, noCompression, noKeepAlive, noRedirects bool
}

// Parse reads hey's arguments (without the program name). As in hey, flags
// come before the URL and -z makes -n irrelevant.
func Parse(args []string) (Options, error) {
	var r rawFlags
	fs := flag.NewFlagSet("hey", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&r.requests, "n", DefaultRequests, "")
	fs.IntVar(&r.concurrency, "c", DefaultConcurrency, "")
	fs.Float64Var(&r.qps, "q", 0, "")
	fs.DurationVar(&r.duration, "z", 0, "")
	fs.StringVar(&r.method, "m", DefaultMethod, "")
	fs.Var(&r.headers, "H", "")
	fs.IntVar(&r.timeoutSeconds, "t", int(DefaultTimeout/time.Second), "")
	fs.StringVar(&r.accept, "A", "", "")
	fs.StringVar(&r.body, "d", "", "")
	fs.StringVar(&r.bodyFile, "D", "", "")
	fs.StringVar(&r.contentType, "T", DefaultContentType, "")
	fs.StringVar(&r.agent, "U", "", "")
	fs.StringVar(&r.auth, "a", "", "")
	fs.StringVar(&r.host, "host", "", "")
	fs.StringVar(&r.proxy, "x", "", "")
	fs.BoolVar(&r.h2, "h2", false, "")
	fs.BoolVar(&r.noCompression, "disable-compression", false, "")
	fs.BoolVar(&r.noKeepAlive, "disable-keepalive", false, "")
	fs.BoolVar(&r.noRedirects, "disable-redirects", false, "")
	// Accepted and ignored: the Go runtime already sizes itself to the pod.
	fs.IntVar(&r.cpus, "cpus", 0, "")
	fs.StringVar(&r.output, "o", "", "")
	if err := fs.Parse(args); err != nil {
		return Options{}, fmt.Errorf("hey: %w", err)
	}
	if r.output != "" {
		return Options{}, fmt.Errorf("%w: -o %s", ErrUnsupported, r.output)
	}
	if fs.NArg() < 1 {
		return Options{}, errors.New("hey: missing the URL")
	}
	return r.options(fs.Arg(0))
}

// options validates the flags the way hey does and builds the run.
func (r *rawFlags) options(target string) (Options, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Options{}, fmt.Errorf("hey: %q is not an http(s) URL", target)
	}
	if r.concurrency < 1 {
		return Options{}, errors.New("hey: -c cannot be smaller than 1")
	}
	if r.duration == 0 {
		if r.requests < 1 {
			return Options{}, errors.New("hey: -n cannot be smaller than 1")
		}
		if r.requests < r.concurrency {
			return Options{}, errors.New("hey: -n cannot be less than -c")
		}
	}
	if r.duration < 0 || r.qps < 0 || r.timeoutSeconds < 0 {
		return Options{}, errors.New("hey: -z, -q and -t cannot be negative")
	}
	// Unlike hey, which then waits forever on a nil ticker, a rate whose
	// tick would round to zero (or NaN) is refused: time.NewTicker would
	// panic and take the load tester down. So is a -t that overflows.
	if math.IsNaN(r.qps) || r.qps > maxQPS {
		return Options{}, fmt.Errorf("hey: -q %v: want a number from 0 to %g", r.qps, maxQPS)
	}
	if r.timeoutSeconds > math.MaxInt64/int(time.Second) {
		return Options{}, fmt.Errorf("hey: -t %d: too large", r.timeoutSeconds)
	}
	o := Options{
		URL:                u.String(),
		Method:             strings.ToUpper(r.method),
		Header:             http.Header{},
		Host:               r.host,
		Body:               []byte(r.body),
		BodyFile:           r.bodyFile,
		Requests:           r.requests,
		Concurrency:        r.concurrency,
		QPS:                r.qps,
		Duration:           r.duration,
		Timeout:            time.Duration(r.timeoutSeconds) * time.Second,
		HTTP2:              r.h2,
		DisableCompression: r.noCompression,
		DisableKeepAlives:  r.noKeepAlive,
		DisableRedirects:   r.noRedirects,
	}
	if o.Duration > 0 {
		o.Requests = 0
	}
	o.Header.Set("Content-Type", r.contentType)
	for _, h := range r.headers {
		name, value, err := parseHeader(h)
		if err != nil {
			return Options{}, err
		}
		// Set, as hey does: a later -H replaces an earlier one and -T.
		o.Header.Set(name, value)
	}
	if r.accept != "" {
		o.Header.Set("Accept", r.accept)
	}
	o.Header.Set("User-Agent", strings.TrimSpace(r.agent+" "+userAgent))
	if r.auth != "" {
		user, pass, ok := strings.Cut(r.auth, ":")
		if !ok || user == "" {
			return Options{}, fmt.Errorf("hey: -a %q: want user:password", r.auth)
		}
		o.Username, o.Password = user, pass
	}
	if r.proxy != "" {
		p, err := url.Parse(r.proxy)
		if err != nil || p.Host == "" {
			return Options{}, fmt.Errorf("hey: -x %q is not a proxy URL", r.proxy)
		}
		o.Proxy = p
	}
	return o, nil
}

// parseHeader splits "Name: value" as hey does: a token name, a colon, and
// a non-empty value.
func parseHeader(h string) (string, string, error) {
	name, value, ok := strings.Cut(h, ":")
	value = strings.TrimSpace(value)
	if !ok || value == "" || !isToken(name) {
		return "", "", fmt.Errorf("hey: -H %q: want \"Name: value\"", h)
	}
	return name, value, nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// headerFlag collects repeated -H flags.
type headerFlag []string

func (h *headerFlag) String() string { return strings.Join(*h, ", ") }

func (h *headerFlag) Set(v string) error {
	*h = append(*h, v)
	return nil
}
