package main

import (
	"bytes"
	"flag"
	"io"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flagger144Flags are the flags cmd/flagger/main.go defines in Flagger 1.44
// (klog's, which it registers with klog.InitFlags, are checked apart).
var flagger144Flags = []string{
	"kubeconfig", "kubeconfig-qps", "kubeconfig-burst", "master", "metrics-server",
	"control-loop-interval", "log-level", "port", "slack-url", "slack-token",
	"slack-proxy-url", "slack-user", "slack-channel", "event-webhook", "msteams-url",
	"msteams-proxy-url", "include-label-prefix", "threadiness", "zap-replace-globals",
	"zap-encoding", "namespace", "mesh-provider", "selector-labels",
	"ingress-annotations-prefix", "ingress-class", "enable-leader-election",
	"leader-election-namespace", "enable-config-tracking", "version",
	"kubeconfig-service-mesh", "cluster-name", "no-cross-namespace-refs",
}

func TestEveryFlaggerFlagIsDefined(t *testing.T) {
	fs := flag.NewFlagSet("serin", flag.ContinueOnError)
	_, err := parseFlags(fs, nil)
	require.NoError(t, err)
	for _, name := range append(flagger144Flags, "v", "vmodule", "logtostderr", "stderrthreshold") {
		assert.NotNil(t, fs.Lookup(name), "-%s", name)
	}
}

// TestFlaggerKustomizeArgs parses the arguments of Flagger's Gateway API
// kustomization (fluxcd/flagger kustomize/gatewayapi/patch.yaml; the base
// Deployment has none).
func TestFlaggerKustomizeArgs(t *testing.T) {
	o, err := parse(
		"-log-level=info",
		"-include-label-prefix=app.kubernetes.io",
		"-mesh-provider=gatewayapi:v1",
		"-metrics-server=http://flagger-prometheus:9090",
	)
	require.NoError(t, err)
	cfg := o.operatorConfig(nil, nil)
	assert.Equal(t, []string{"app.kubernetes.io"}, cfg.IncludeLabelPrefix)
	assert.Equal(t, "http://flagger-prometheus:9090", cfg.MetricsServer)
	assert.Empty(t, o.flaggerOnly, "every one of these flags has its effect")
}

// TestFlaggerHelmArgs parses what Flagger's chart renders for the Gateway
// API with leader election and its optional settings, as a Deployment
// moved from Flagger keeps them.
func TestFlaggerHelmArgs(t *testing.T) {
	o, err := parse(
		"-log-level=info",
		"-mesh-provider=gatewayapi:v1beta1",
		"-metrics-server=http://prometheus.istio-system:9090",
		"-selector-labels=app,name,app.kubernetes.io/name",
		"-enable-config-tracking=true",
		"-slack-user=flagger",
		"-enable-leader-election=true",
		"-leader-election-namespace=flagger-system",
		"-ingress-annotations-prefix=nginx.ingress.kubernetes.io",
		"-kubeconfig-qps=100",
		"-kubeconfig-burst=250",
		"-threadiness=2",
		"-include-label-prefix=app.kubernetes.io,helm.sh",
		"-no-cross-namespace-refs=true",
		"-cluster-name=prod-eu",
	)
	require.NoError(t, err)
	assert.True(t, o.enableLeaderElection)
	assert.Equal(t, "flagger-system", o.leaderElectionNamespace)
	assert.Equal(t, 2, o.threadiness)
	cfg := o.operatorConfig(nil, nil)
	assert.True(t, cfg.NoCrossNamespaceRefs)
	assert.Equal(t, []string{"app.kubernetes.io", "helm.sh"}, cfg.IncludeLabelPrefix)
	assert.Equal(t, "prod-eu", cfg.ClusterName)
	assert.Equal(t, []string{"ingress-annotations-prefix"}, names(o.flaggerOnly))
}

// TestEveryFlaggerFlagAtOnce sets all of Flagger's flags (and a klog one):
// Serin starts, and warns about exactly those without effect.
func TestEveryFlaggerFlagAtOnce(t *testing.T) {
	o, err := parse(
		"-kubeconfig=/etc/kube/config", "-kubeconfig-qps=100", "-kubeconfig-burst=250",
		"-master=https://10.0.0.1:6443", "-metrics-server=http://prometheus:9090",
		"-control-loop-interval=10s", "-log-level=debug", "-port=8080",
		"-slack-url=https://hooks.slack.com/services/x", "-slack-token=xoxb-1",
		"-slack-proxy-url=http://proxy:3128", "-slack-user=flagger", "-slack-channel=general",
		"-event-webhook=http://events.example.com/", "-msteams-url=https://example.webhook.office.com/x",
		"-msteams-proxy-url=http://proxy:3128", "-include-label-prefix=*", "-threadiness=2",
		"-zap-replace-globals=true", "-zap-encoding=console", "-namespace=apps",
		"-mesh-provider=gatewayapi:v1", "-selector-labels=app", "-ingress-annotations-prefix=custom.io",
		"-ingress-class=contour", "-enable-leader-election=true", "-leader-election-namespace=flagger-system",
		"-enable-config-tracking=false", "-kubeconfig-service-mesh=/etc/kube/config",
		"-cluster-name=prod", "-no-cross-namespace-refs=true", "-v=2",
	)
	require.NoError(t, err)
	assert.Equal(t, "console", o.logEncoding)
	assert.Equal(t, []string{"control-loop-interval", "ingress-annotations-prefix", "ingress-class",
		"kubeconfig-service-mesh", "zap-replace-globals"}, names(o.flaggerOnly))

	logger, hook := test.NewNullLogger()
	warnFlaggerOnly(logrus.NewEntry(logger), o.flaggerOnly)
	require.Len(t, hook.AllEntries(), 5, "one warning per flag")
	for i, entry := range hook.AllEntries() {
		assert.Equal(t, logrus.WarnLevel, entry.Level)
		assert.Equal(t, "-"+o.flaggerOnly[i].name, entry.Data["flag"])
		assert.NotEmpty(t, entry.Data["reason"])
	}
}

func TestFlaggerOnlyFlagsRejectWhatSerinCannotHonour(t *testing.T) {
	_, err := parse("-kubeconfig=/a", "-kubeconfig-service-mesh=/istio-host/kubeconfig")
	assert.ErrorContains(t, err, "-kubeconfig-service-mesh")
	_, err = parse("-zap-encoding=logfmt")
	assert.ErrorContains(t, err, "-zap-encoding")
	_, err = parse("-control-loop-interval=often")
	assert.Error(t, err)
}

func TestZapEncodingPicksTheFormat(t *testing.T) {
	for encoding, want := range map[string]string{"json": `"msg":"hello"`, "console": `msg=hello`} {
		log := newLogger("info", encoding)
		var out bytes.Buffer
		log.Logger.SetOutput(&out)
		log.Info("hello")
		assert.Contains(t, out.String(), want, encoding)
	}
	log := newLogger("warning", "json")
	log.Logger.SetOutput(io.Discard)
	assert.Equal(t, logrus.WarnLevel, log.Logger.GetLevel())
}

func names(flags []compatFlag) []string {
	var out []string
	for _, f := range flags {
		out = append(out, f.name)
	}
	return out
}
