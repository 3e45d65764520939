package prometheus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// pollInterval is how often WaitForSeries repeats its query.
const pollInterval = 250 * time.Millisecond

// Query runs an instant query through /api/v1/query at the current time. The result must be
// an instant vector (wrap a scalar expression in vector() to query it).
func (s *Server) Query(ctx context.Context, query string) (model.Vector, error) {
	value, _, _, err := s.api.Query(ctx, query, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("prometheus query %q: %w", query, err)
	}
	vec, ok := value.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus query %q returned a %s, not a vector", query, value.Type())
	}
	return vec, nil
}

// errEmpty is the reason WaitForSeries gives when the query kept returning nothing.
var errEmpty = errors.New("empty result")

// WaitForSeries runs query until it returns at least one sample and returns them, or gives up
// when ctx ends; bound ctx. The first scrape happens about 6 s after Start.
func (s *Server) WaitForSeries(ctx context.Context, query string) (model.Vector, error) {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		vec, err := s.Query(ctx, query)
		if err == nil && len(vec) > 0 {
			return vec, nil
		}
		if err == nil {
			err = errEmpty
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for series of %q: %w (last: %w)", query, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
