// Package hey runs hey load tests without the hey binary. Parse reads hey's
// command line (the flags Flagger's tutorials use: -z -n -q -c -m -H -host -d
// -T -t, and the cheap rest) into Options, and Run generates that load with
// net/http: c workers, each limited to q requests per second, for a duration
// or a total number of requests. Flags that need hey's own output (-o) are
// reported as ErrUnsupported so the caller can fall back to the binary.
package hey
