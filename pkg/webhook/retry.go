package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// backoff is an exponential backoff: min, 2×min, 4×min... capped at max.
type backoff struct {
	min, max time.Duration
}

// delay returns the wait before retry n (0 for the first retry). A
// Retry-After from the server replaces the computed wait, within max.
func (b backoff) delay(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, b.max)
	}
	d := b.min
	for range n {
		if d >= b.max/2 {
			return b.max
		}
		d *= 2
	}
	return min(d, b.max)
}

// retryableStatus reports whether a response status is worth retrying: 429
// and 5xx, except 501 Not Implemented, which will not change.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests ||
		(code >= 500 && code <= 599 && code != http.StatusNotImplemented)
}

// retryableError reports whether a transport error is worth retrying:
// connection errors and per-attempt timeouts are; a certificate the server
// will keep presenting is not.
func retryableError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return !errors.As(err, &verify) && !errors.As(err, &authority) &&
		!errors.As(err, &hostname) && !errors.As(err, &invalid)
}

// retryAfter reads a Retry-After header in seconds on 429 and 503 responses.
func retryAfter(resp *http.Response) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0
	}
	s, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || s <= 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
