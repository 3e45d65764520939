package notifier

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	listers "github.com/serin-dev/serin/pkg/client/listers/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/secretlister"
)

// dispatcherFor returns a Dispatcher over listers holding objs (providers
// and secrets).
func dispatcherFor(t *testing.T, cfg DispatcherConfig, objs ...any) *Dispatcher {
	t.Helper()
	var providers, secrets []any
	for _, o := range objs {
		if _, ok := o.(*flaggerv1.AlertProvider); ok {
			providers = append(providers, o)
		} else {
			secrets = append(secrets, o)
		}
	}
	cfg.AlertProviders = listers.NewAlertProviderLister(newIndexer(t, providers...))
	cfg.Secrets = secretlister.Lister{SecretLister: corelisters.NewSecretLister(newIndexer(t, secrets...))}
	if cfg.Notifier == (Config{}) {
		cfg.Notifier = testConfig()
	}
	d, err := NewDispatcher(cfg)
	require.NoError(t, err)
	return d
}

func alertOf(severity flaggerv1.AlertSeverity) analysis.Alert {
	return analysis.Alert{Severity: severity, Message: "text " + string(severity)}
}

// TestSeverityFiltering checks §6.1: an info (or empty) entry receives every
// alert, warn receives warn and error, error receives error only.
func TestSeverityFiltering(t *testing.T) {
	receivers := map[string]*receiver{}
	var objs []any
	opts := []func(*flaggerv1.Canary){}
	for _, entry := range []flaggerv1.AlertSeverity{"", flaggerv1.SeverityInfo, flaggerv1.SeverityWarn, flaggerv1.SeverityError} {
		name := "entry-" + string(entry)
		receivers[name] = newReceiver(t, http.StatusOK)
		objs = append(objs, newProvider("test", name, TypeGeneric, receivers[name].URL))
		opts = append(opts, withAlert(entry, "", name))
	}
	d := dispatcherFor(t, DispatcherConfig{}, objs...)
	cd := newCanary(opts...)

	for _, sev := range []flaggerv1.AlertSeverity{flaggerv1.SeverityInfo, flaggerv1.SeverityWarn, flaggerv1.SeverityError} {
		require.NoError(t, d.Send(context.Background(), cd, alertOf(sev)))
	}

	got := map[string][]any{}
	for name, rcv := range receivers {
		for _, r := range rcv.requests() {
			got[name] = append(got[name], lookup(t, r.body, "severity"))
		}
	}
	assert.Equal(t, map[string][]any{
		"entry-":      {"info", "warn", "error"},
		"entry-info":  {"info", "warn", "error"},
		"entry-warn":  {"warn", "error"},
		"entry-error": {"error"},
	}, got)
}

func TestAccepts(t *testing.T) {
	cases := []struct {
		entry, alert flaggerv1.AlertSeverity
		want         bool
	}{
		{"", flaggerv1.SeverityInfo, true},
		{flaggerv1.SeverityInfo, flaggerv1.SeverityError, true},
		{flaggerv1.SeverityWarn, flaggerv1.SeverityInfo, false},
		{flaggerv1.SeverityWarn, flaggerv1.SeverityWarn, true},
		{flaggerv1.SeverityWarn, flaggerv1.SeverityError, true},
		{flaggerv1.SeverityError, flaggerv1.SeverityWarn, false},
		{flaggerv1.SeverityError, flaggerv1.SeverityError, true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, accepts(tc.entry, tc.alert), "entry %q alert %q", tc.entry, tc.alert)
	}
}

func TestProviderNamespaceDefaultsToCanary(t *testing.T) {
	local, shared := newReceiver(t, http.StatusOK), newReceiver(t, http.StatusOK)
	d := dispatcherFor(t, DispatcherConfig{},
		newProvider("test", "chat", TypeSlack, local.URL),
		newProvider("flagger-system", "chat", TypeSlack, shared.URL))

	cd := newCanary(withAlert("", "", "chat"), withAlert("", "flagger-system", "chat"))
	require.NoError(t, d.Send(context.Background(), cd, alertOf(flaggerv1.SeverityInfo)))

	assert.Len(t, local.requests(), 1)
	assert.Len(t, shared.requests(), 1)
}

func TestSecretRef(t *testing.T) {
	fromSecret, fromSpec := newReceiver(t, http.StatusOK), newReceiver(t, http.StatusOK)
	d := dispatcherFor(t, DispatcherConfig{},
		newProvider("test", "on-call", TypeSlack, fromSpec.URL, withSecretRef("on-call-url")),
		newSecret("test", "on-call-url", map[string]string{"address": fromSecret.URL + "/api/chat.postMessage", "token": "xoxb-2"}))

	require.NoError(t, d.Send(context.Background(), newCanary(withAlert("", "", "on-call")), alertOf(flaggerv1.SeverityInfo)))

	assert.Empty(t, fromSpec.requests(), "the secret's address overrides spec.address")
	reqs := fromSecret.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/api/chat.postMessage", reqs[0].path)
	assert.Equal(t, "Bearer xoxb-2", reqs[0].header.Get("Authorization"))
}

func TestResolutionFailures(t *testing.T) {
	ok := newReceiver(t, http.StatusOK)
	d := dispatcherFor(t, DispatcherConfig{},
		newProvider("test", "ok", TypeMSTeams, ok.URL),
		newProvider("test", "no-secret", TypeSlack, "", withSecretRef("missing")),
		newProvider("test", "no-address", TypeGChat, "", withSecretRef("empty")),
		newSecret("test", "empty", map[string]string{"token": "t"}))
	cd := newCanary(withAlert("", "", "missing"), withAlert("", "", "no-secret"), withAlert("", "", "no-address"), withAlert("", "", "ok"))

	err := d.Send(context.Background(), cd, alertOf(flaggerv1.SeverityError))

	assert.Len(t, ok.requests(), 1, "a broken provider does not stop the others")
	var errs []*DeliveryError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var de *DeliveryError
		require.ErrorAs(t, e, &de)
		errs = append(errs, de)
	}
	require.Len(t, errs, 3)
	assert.Equal(t, "test/missing", errs[0].Provider)
	assert.Equal(t, unresolvedType, errs[0].Type)
	assert.True(t, apierrors.IsNotFound(errs[0].Err))
	assert.Equal(t, "test/no-secret", errs[1].Provider)
	assert.True(t, apierrors.IsNotFound(errs[1].Err))
	assert.EqualError(t, errs[2], `alert provider test/no-address (gchat): secret test/empty has no "address" key`)
	assert.Equal(t, 1.0, testutil.ToFloat64(d.failures.WithLabelValues(unresolvedType)))
	assert.Equal(t, 1.0, testutil.ToFloat64(d.failures.WithLabelValues(TypeSlack)))
	assert.Equal(t, 1.0, testutil.ToFloat64(d.failures.WithLabelValues(TypeGChat)))
}

func TestDeliveryFailuresAreCounted(t *testing.T) {
	refusing := newReceiver(t, http.StatusForbidden)
	d := dispatcherFor(t, DispatcherConfig{}, newProvider("test", "chat", TypeRocket, refusing.URL))
	cd := newCanary(withAlert("", "", "chat"))

	err := d.Send(context.Background(), cd, alertOf(flaggerv1.SeverityInfo))
	err2 := d.Send(context.Background(), cd, alertOf(flaggerv1.SeverityInfo))

	var se *StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusForbidden, se.Code)
	assert.Error(t, err2)
	assert.Equal(t, 2.0, testutil.ToFloat64(d.failures.WithLabelValues(TypeRocket)))
	assert.Equal(t, 1, testutil.CollectAndCount(d.Collectors()[0], "serin_alert_failures_total"))
}

// TestSlowProviderDoesNotHoldOthers checks that posts run concurrently and
// each is bounded by the timeout.
func TestSlowProviderDoesNotHoldOthers(t *testing.T) {
	slow, fast := newReceiver(t, http.StatusOK), newReceiver(t, http.StatusOK)
	slow.delay = 10 * time.Second
	cfg := testConfig()
	cfg.Timeout = 200 * time.Millisecond
	d := dispatcherFor(t, DispatcherConfig{Notifier: cfg},
		newProvider("test", "slow", TypeGeneric, slow.URL),
		newProvider("test", "fast", TypeGeneric, fast.URL))
	cd := newCanary(withAlert("", "", "slow"), withAlert("", "", "fast"))

	start := time.Now()
	err := d.Send(context.Background(), cd, alertOf(flaggerv1.SeverityWarn))

	assert.Less(t, time.Since(start), 2*time.Second)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Len(t, fast.requests(), 1)
}

func TestGlobalFallback(t *testing.T) {
	slack, teams, own := newReceiver(t, http.StatusOK), newReceiver(t, http.StatusOK), newReceiver(t, http.StatusOK)
	global := GlobalConfig{SlackURL: slack.URL, SlackChannel: "deploys", MSTeamsURL: teams.URL}
	d := dispatcherFor(t, DispatcherConfig{Global: global}, newProvider("test", "own", TypeGeneric, own.URL))

	for _, sev := range []flaggerv1.AlertSeverity{flaggerv1.SeverityInfo, flaggerv1.SeverityWarn, flaggerv1.SeverityError} {
		require.NoError(t, d.Send(context.Background(), newCanary(), alertOf(sev)))
	}
	noAnalysis := newCanary(func(c *flaggerv1.Canary) { c.Spec.Analysis = nil })
	require.NoError(t, d.Send(context.Background(), noAnalysis, alertOf(flaggerv1.SeverityInfo)))
	require.NoError(t, d.Send(context.Background(), newCanary(withAlert("", "", "own")), alertOf(flaggerv1.SeverityInfo)))

	assert.Len(t, slack.requests(), 4, "every severity of canaries without alerts")
	assert.Len(t, teams.requests(), 4, "both global notifiers receive")
	assert.Len(t, own.requests(), 1, "a canary with alerts uses its own only")
	assert.Equal(t, "deploys", lookup(t, slack.requests()[0].body, "channel"))
	assert.Equal(t, "flagger", lookup(t, slack.requests()[0].body, "username"))
}

func TestNoGlobalNotifier(t *testing.T) {
	d := dispatcherFor(t, DispatcherConfig{})
	assert.NoError(t, d.Send(context.Background(), newCanary(), alertOf(flaggerv1.SeverityError)))
}

func TestInvalidGlobalURL(t *testing.T) {
	_, err := NewDispatcher(DispatcherConfig{Global: GlobalConfig{MSTeamsURL: "outlook.office.com/webhook/x"}})
	assert.EqualError(t, err, "-msteams-url: msteams alert provider: address: not an absolute http(s) URL")
}

func TestGlobalFromEnv(t *testing.T) {
	env := map[string]string{"SLACK_URL": "https://env/slack", "SLACK_TOKEN": "xoxb", "MSTEAMS_URL": "https://env/teams", "MSTEAMS_PROXY_URL": "http://proxy"}
	g := GlobalConfig{SlackURL: "https://flag/slack"}
	g.FillFromEnv(func(k string) string { return env[k] })
	assert.Equal(t, GlobalConfig{
		SlackURL: "https://flag/slack", SlackToken: "xoxb",
		MSTeamsURL: "https://env/teams", MSTeamsProxy: "http://proxy",
	}, g, "flags win over the environment")
}

func TestClusterNameComesFirst(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	d := dispatcherFor(t, DispatcherConfig{ClusterName: "prod-eu"}, newProvider("test", "chat", TypeMSTeams, rcv.URL))
	alert := analysis.Alert{Severity: flaggerv1.SeverityInfo, Message: "m", Fields: []analysis.AlertField{{Name: "Target", Value: "Deployment/podinfo.test"}}}

	require.NoError(t, d.Send(context.Background(), newCanary(withAlert("", "", "chat")), alert))

	assert.Equal(t, []any{
		map[string]any{"name": "Cluster", "value": "prod-eu"},
		map[string]any{"name": "Target", "value": "Deployment/podinfo.test"},
	}, lookup(t, rcv.requests()[0].body, "sections.0.facts"))
}

// TestNotifiersAreCached checks that a provider's notifier is reused until
// its settings change, e.g. when its Secret is rotated.
func TestNotifiersAreCached(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	secrets := newIndexer(t, newSecret("test", "url", map[string]string{"address": rcv.URL + "/a"}))
	d, err := NewDispatcher(DispatcherConfig{
		AlertProviders: listers.NewAlertProviderLister(newIndexer(t, newProvider("test", "chat", TypeSlack, "", withSecretRef("url")))),
		Secrets:        secretlister.Lister{SecretLister: corelisters.NewSecretLister(secrets)},
		Notifier:       testConfig(),
	})
	require.NoError(t, err)
	cd := newCanary(withAlert("", "", "chat"))
	key := cache.ObjectName{Namespace: "test", Name: "chat"}

	require.NoError(t, d.Send(context.Background(), cd, alertOf(flaggerv1.SeverityInfo)))
	first := d.built.entries[key].notifier
	require.NoError(t, d.Send(context.Background(), cd, alertOf(flaggerv1.SeverityInfo)))
	assert.Same(t, first, d.built.entries[key].notifier)

	require.NoError(t, secrets.Update(newSecret("test", "url", map[string]string{"address": rcv.URL + "/b"})))
	require.NoError(t, d.Send(context.Background(), cd, alertOf(flaggerv1.SeverityInfo)))
	assert.NotSame(t, first, d.built.entries[key].notifier)

	var paths []string
	for _, r := range rcv.requests() {
		paths = append(paths, r.path)
	}
	assert.Equal(t, []string{"/a", "/a", "/b"}, paths)
}

func TestDeliveryErrorUnwraps(t *testing.T) {
	cause := errors.New("boom")
	err := error(&DeliveryError{Provider: "test/chat", Type: TypeSlack, Err: cause})
	assert.ErrorIs(t, err, cause)
	assert.EqualError(t, err, "alert provider test/chat (slack): boom")
}
