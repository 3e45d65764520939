package controller

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/history"
	"github.com/serin-dev/serin/pkg/webhook"
)

// Bounds of what a record keeps of a query and of an answer or error, so
// that status.checks stays small whatever a template or a webhook returns.
const (
	maxRecordedQuery   = 2048
	maxRecordedMessage = 256
)

// records collects the checks of one tick as they ran, for status.checks
// and the history (kubectl serin explain and replay).
type records struct {
	mu      sync.Mutex
	results []flaggerv1.CheckResult
}

func (r *records) add(res flaggerv1.CheckResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, res)
}

// take returns the records so far and forgets them.
func (r *records) take() []flaggerv1.CheckResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.results
	r.results = nil
	return out
}

// evaluationTime is the time a metric query is evaluated at, sent to the
// provider: the wall clock (what the metrics backend knows), in whole
// seconds, so that the time status.checks records (metav1.Time keeps
// seconds) asks the same question again.
func evaluationTime() time.Time {
	return time.Now().Truncate(time.Second)
}

// metricRecord is the record of one metric check.
func metricRecord(metric flaggerv1.CanaryMetric, r resolved, at time.Time, took time.Duration) flaggerv1.CheckResult {
	return flaggerv1.CheckResult{
		Kind: flaggerv1.MetricCheck, Name: metric.Name, Type: r.providerType,
		Query: history.Truncate(r.query, maxRecordedQuery), Address: r.address,
		EvaluatedAt: metav1.NewTime(at), DurationMilliseconds: took.Milliseconds(),
	}
}

// webhookRecord is the record of one webhook call: Pass on 2xx, Fail with
// the status on any other answer, Error when there was no answer.
func webhookRecord(hook flaggerv1.CanaryWebhook, at time.Time, took time.Duration, err error) flaggerv1.CheckResult {
	typ := hook.Type
	if typ == "" {
		typ = flaggerv1.RolloutHook
	}
	res := flaggerv1.CheckResult{
		Kind: flaggerv1.WebhookCheck, Name: hook.Name, Type: string(typ),
		EvaluatedAt: metav1.NewTime(at.Truncate(time.Second)), DurationMilliseconds: took.Milliseconds(),
		Verdict: flaggerv1.CheckPass,
	}
	if err == nil {
		return res
	}
	res.Verdict, res.Message = flaggerv1.CheckError, firstLine(err.Error())
	var status *webhook.StatusError
	if errors.As(err, &status) {
		res.Verdict, res.Value = flaggerv1.CheckFail, strconv.Itoa(status.StatusCode)
		if body := firstLine(status.Body); body != "" {
			res.Message = body
		}
	}
	return res
}

// firstLine is the first non-empty line of s, bounded.
func firstLine(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return history.Truncate(line, maxRecordedMessage)
		}
	}
	return ""
}

// latestChecks merges a tick's records into the checks of the status: one
// per kind and name, the latest, in the order they were first run.
func latestChecks(checks, tick []flaggerv1.CheckResult) []flaggerv1.CheckResult {
	out := append([]flaggerv1.CheckResult(nil), checks...)
	for _, r := range tick {
		i := 0
		for ; i < len(out); i++ {
			if out[i].Kind == r.Kind && out[i].Name == r.Name {
				break
			}
		}
		if i == len(out) {
			out = append(out, r)
		} else {
			out[i] = r
		}
	}
	return out
}
