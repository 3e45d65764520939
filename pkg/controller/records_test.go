package controller

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	listers "github.com/serin-dev/serin/pkg/client/listers/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/pkg/webhook"
)

// prometheusAnswering serves one instant-query answer and remembers the
// evaluation times it was asked for.
func prometheusAnswering(t *testing.T, body string, times *[]string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		*times = append(*times, r.Form.Get("time"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCheckMetricRecordsWhatItAsked(t *testing.T) {
	scalar := func(v string) string {
		return `{"status":"success","data":{"resultType":"scalar","result":[1,"` + v + `"]}}`
	}
	max1 := &flaggerv1.CanaryThresholdRange{Max: ptr.To(1.0)}
	tests := map[string]struct {
		body    string
		verdict flaggerv1.CheckVerdict
		value   string
		message string
	}{
		"a value within its threshold passes": {body: scalar("0.5"), verdict: flaggerv1.CheckPass, value: "0.5"},
		"a value out of it fails, and the record says why": {body: scalar("3.2"), verdict: flaggerv1.CheckFail, value: "3.2",
			message: "Halt podinfo.test advancement error-rate 3.20 > 1"},
		"no data is its own verdict": {body: `{"status":"success","data":{"resultType":"vector","result":[]}}`,
			verdict: flaggerv1.CheckNoData, message: "Halt advancement no values found for metric: error-rate"},
		"a query error is an error": {body: `{"status":"error","errorType":"bad_data","error":"parse error"}`,
			verdict: flaggerv1.CheckError, message: "Prometheus query failed for error-rate: bad_data: parse error"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var times []string
			cd := testCanary()
			cd.Spec.MetricsServer = prometheusAnswering(t, tt.body, &times)
			k := &checks{providers: metrics.NewProviderCache(0), metrics: newSyncMetrics(), cd: cd, log: logrus.NewEntry(logrus.New())}
			metric := flaggerv1.CanaryMetric{Name: "error-rate", Query: "sum(rate(errors[1m]))", ThresholdRange: max1}

			before := time.Now().Truncate(time.Second)
			err := k.CheckMetric(context.Background(), metric)
			assert.Equal(t, tt.verdict != flaggerv1.CheckPass, err != nil)

			recs := k.records.take()
			require.Len(t, recs, 1)
			r := recs[0]
			assert.Equal(t, flaggerv1.MetricCheck, r.Kind)
			assert.Equal(t, "error-rate", r.Name)
			assert.Equal(t, "prometheus", r.Type)
			assert.Equal(t, "sum(rate(errors[1m]))", r.Query)
			assert.Equal(t, cd.Spec.MetricsServer, r.Address)
			assert.Equal(t, "max 1", r.Threshold)
			assert.Equal(t, tt.verdict, r.Verdict)
			assert.Equal(t, tt.value, r.Value)
			assert.Contains(t, r.Message, tt.message)
			require.Len(t, times, 1)
			assert.Equal(t, fmt.Sprint(r.EvaluatedAt.Unix()), times[0], "the recorded time is the one Prometheus was asked for")
			assert.False(t, r.EvaluatedAt.Time.Before(before))
			assert.Empty(t, k.records.take(), "take forgets")
		})
	}
}

func TestWebhookRecord(t *testing.T) {
	at := time.Date(2026, 12, 6, 1, 2, 3, 400e6, time.UTC)
	hook := flaggerv1.CanaryWebhook{Name: "acceptance-test", Type: flaggerv1.PreRolloutHook}
	tests := map[string]struct {
		hook    flaggerv1.CanaryWebhook
		err     error
		verdict flaggerv1.CheckVerdict
		value   string
		message string
		typ     string
	}{
		"2xx passes":                 {hook: hook, verdict: flaggerv1.CheckPass, typ: "pre-rollout"},
		"an untyped hook is rollout": {hook: flaggerv1.CanaryWebhook{Name: "load"}, verdict: flaggerv1.CheckPass, typ: "rollout"},
		"another status fails with the first line of the answer": {hook: hook, typ: "pre-rollout",
			err:     fmt.Errorf("call: %w", &webhook.StatusError{StatusCode: 403, Body: "\n  tests failed: 3 of 10\nstack..."}),
			verdict: flaggerv1.CheckFail, value: "403", message: "tests failed: 3 of 10"},
		"no answer is an error": {hook: hook, typ: "pre-rollout", err: errors.New("dial tcp: connection refused"),
			verdict: flaggerv1.CheckError, message: "dial tcp: connection refused"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := webhookRecord(tt.hook, at, 1500*time.Millisecond, tt.err)
			assert.Equal(t, flaggerv1.WebhookCheck, r.Kind)
			assert.Equal(t, tt.typ, r.Type)
			assert.Equal(t, tt.verdict, r.Verdict)
			assert.Equal(t, tt.value, r.Value)
			assert.Equal(t, tt.message, r.Message)
			assert.Equal(t, int64(1500), r.DurationMilliseconds)
			assert.Equal(t, at.Truncate(time.Second), r.EvaluatedAt.Time)
		})
	}
}

func TestLatestChecksKeepsOnePerCheck(t *testing.T) {
	m := func(name, value string) flaggerv1.CheckResult {
		return flaggerv1.CheckResult{Kind: flaggerv1.MetricCheck, Name: name, Value: value}
	}
	hook := flaggerv1.CheckResult{Kind: flaggerv1.WebhookCheck, Name: "error-rate"}
	status := []flaggerv1.CheckResult{m("error-rate", "1"), m("latency", "200")}
	got := latestChecks(status, []flaggerv1.CheckResult{m("error-rate", "2"), hook, m("error-rate", "3")})
	assert.Equal(t, []flaggerv1.CheckResult{m("error-rate", "3"), m("latency", "200"), hook}, got,
		"the latest value replaces the last in place; a webhook of the same name is its own check")
	assert.Equal(t, "1", status[0].Value, "the status is not changed in place")
}

func TestFirstLine(t *testing.T) {
	assert.Equal(t, "b", firstLine("\n  \n b \nc"))
	assert.Equal(t, "", firstLine(""))
	assert.LessOrEqual(t, len(firstLine(string(make([]byte, 1000))+"x")), maxRecordedMessage)
}

func TestCheckMetricRunsTheGRPCBuiltin(t *testing.T) {
	var times []string
	cd := testCanary()
	cd.Spec.MetricsServer = prometheusAnswering(t, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"7.5"]}]}}`, &times)
	k := &checks{providers: metrics.NewProviderCache(0), metrics: newSyncMetrics(), cd: cd, log: logrus.NewEntry(logrus.New())}

	err := k.CheckMetric(context.Background(), flaggerv1.CanaryMetric{Name: metrics.GRPCErrorRate,
		ThresholdRange: &flaggerv1.CanaryThresholdRange{Max: ptr.To(5.0)}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "grpc-error-rate 7.50 > 5")
	r := k.records.take()[0]
	assert.Contains(t, r.Query, "traefik_service_requests_total")
	assert.Equal(t, flaggerv1.CheckFail, r.Verdict)
}

func TestProbeRendersComparedMetricsForAnArm(t *testing.T) {
	var times []string
	address := prometheusAnswering(t, `{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}`, &times)
	templates := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	require.NoError(t, templates.Add(&flaggerv1.MetricTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "errors", Namespace: "test"},
		Spec: flaggerv1.MetricTemplateSpec{Provider: flaggerv1.MetricTemplateProvider{Type: "prometheus", Address: address},
			Query: `sum(requests_total{workload="{{ workload }}",code=~"5.."})`},
	}))
	cd := testCanary()
	cd.Spec.Analysis.Judge = &flaggerv1.CanaryJudge{Baseline: true}
	cd.Spec.Analysis.Metrics = []flaggerv1.CanaryMetric{{Name: "errors",
		TemplateRef: &flaggerv1.CrossNamespaceObjectReference{Name: "errors"},
		Compare:     &flaggerv1.MetricComparison{Kind: flaggerv1.CountComparison}}}
	k := &checks{providers: metrics.NewProviderCache(0), templates: listers.NewMetricTemplateLister(templates),
		metrics: newSyncMetrics(), cd: cd, log: logrus.NewEntry(logrus.New())}

	assert.NoError(t, k.ProbeMetricProviders(context.Background()), "a template written per arm renders for the probe")
	r, err := k.resolve(cd.Spec.Analysis.Metrics[0])
	require.NoError(t, err)
	assert.Equal(t, `sum(requests_total{workload="podinfo",code=~"5.."})`, r.query, "asked of the canary")
}
