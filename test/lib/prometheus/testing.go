package prometheus

import (
	"context"
	"testing"
)

// StartForTest starts a server for one test and stops it in t.Cleanup. It fails the test if
// the server cannot start, for instance because the binary has not been built; it never skips.
func StartForTest(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(t.Context(), readyTimeout)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stopping prometheus: %v", err)
		}
	})
	return s
}
