package main

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/client-go/rest"

	"github.com/serin-dev/serin/pkg/canary"
	"github.com/serin-dev/serin/pkg/notifier"
	"github.com/serin-dev/serin/pkg/operator"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/pkg/webhook/egress"
)

// options are the operator's command-line flags; the names are Flagger's
// where Flagger has them.
type options struct {
	kubeconfig              string
	master                  string
	namespace               string
	meshProvider            string
	metricsServer           string
	threadiness             int
	qps                     float64
	burst                   int
	logLevel                string
	logEncoding             string
	enableLeaderElection    bool
	leaderElectionNamespace string
	enableConfigTracking    bool
	selectorLabels          string
	includeLabelPrefix      string
	noCrossNamespaceRefs    bool
	eventWebhook            string
	webhookAllowedHosts     string
	egress                  *egress.Policy
	port                    int
	schedulerTick           time.Duration
	shutdownGrace           time.Duration
	pprof                   bool
	version                 bool

	slackURL        string
	slackToken      string
	slackChannel    string
	slackUser       string
	slackProxyURL   string
	msteamsURL      string
	msteamsProxyURL string
	clusterName     string

	// flaggerOnly are the Flagger flags set on the command line that have
	// no effect in Serin (compat.go), by name.
	flaggerOnly []compatFlag
}

// supportedProviders are the -mesh-provider values Serin routes with.
var supportedProviders = router.Providers

func parseFlags(fs *flag.FlagSet, args []string) (*options, error) {
	o := &options{}
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "Path to a kubeconfig. Only required if out-of-cluster.")
	fs.StringVar(&o.master, "master", "", "The address of the Kubernetes API server. Overrides any value in kubeconfig. Only required if out-of-cluster.")
	fs.StringVar(&o.namespace, "namespace", "", "Namespace that Serin watches for Canary objects; all namespaces when empty.")
	fs.StringVar(&o.meshProvider, "mesh-provider", operator.DefaultMeshProvider, "Traffic provider: "+strings.Join(supportedProviders, " or ")+".")
	fs.StringVar(&o.metricsServer, "metrics-server", operator.DefaultMetricsServer, "Prometheus URL for the builtin metrics and inline queries.")
	// Flagger's defaults (2 workers, 100 QPS, burst 250) ran the steps of
	// 1,000 canaries with a 10 s interval up to 9 s late (test/bench): each
	// of the three clients needs about 1.5 × canaries / interval requests
	// per second during releases. operator.DefaultWorkers says why 128.
	fs.IntVar(&o.threadiness, "threadiness", operator.DefaultWorkers, "Number of workers syncing canaries concurrently.")
	fs.Float64Var(&o.qps, "kubeconfig-qps", 500, "Maximum queries per second to the Kubernetes API, for each of the three clients (Kubernetes, flagger.app, Gateway API).")
	fs.IntVar(&o.burst, "kubeconfig-burst", 1000, "Maximum burst of queries to the Kubernetes API, for each of the three clients.")
	fs.StringVar(&o.logLevel, "log-level", "info", "Log level: debug, info, warning, error.")
	fs.StringVar(&o.logEncoding, "zap-encoding", "json", "Log format: json, or console for text (Flagger's flag name).")
	fs.BoolVar(&o.enableLeaderElection, "enable-leader-election", false, "Run only while holding the leader Lease (for more than one replica).")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader Lease; defaults to the pod's namespace or serin-system.")
	fs.BoolVar(&o.enableConfigTracking, "enable-config-tracking", true, "Track the ConfigMaps and Secrets used by targets and start an analysis when they change.")
	fs.StringVar(&o.selectorLabels, "selector-labels", canary.DefaultSelectorLabels, "Comma-separated labels used as the workload selector, in order of preference.")
	fs.StringVar(&o.includeLabelPrefix, "include-label-prefix", "", "Comma-separated prefixes of the target's labels and annotations copied to the primary objects; * copies all, none when empty.")
	fs.BoolVar(&o.noCrossNamespaceRefs, "no-cross-namespace-refs", false, "Refuse canaries whose MetricTemplate or AlertProvider references point to another namespace.")
	fs.StringVar(&o.eventWebhook, "event-webhook", "", "URL that receives every canary event (when the canary has no event webhooks of its own); env EVENT_WEBHOOK_URL overrides it, as in Flagger.")
	fs.StringVar(&o.webhookAllowedHosts, "webhook-allowed-hosts", "", "Comma-separated destinations that webhooks, event webhooks and alerts may be sent to: host, host:port, *.suffix, IP, IP:port or CIDR; any destination when empty, as in Flagger. See SECURITY.md.")
	fs.IntVar(&o.port, "port", 8080, "Port of the metrics and health endpoints.")
	fs.DurationVar(&o.schedulerTick, "scheduler-tick", time.Second, "How often canaries whose analysis is due are enqueued.")
	// Below the pod's terminationGracePeriodSeconds (60 in kustomize/base),
	// which must also cover the events' drain and the lease's release.
	fs.DurationVar(&o.shutdownGrace, "shutdown-grace", 30*time.Second, "How long the syncs in flight may go on after SIGTERM before they are cancelled; the leader lease is released after.")
	fs.BoolVar(&o.pprof, "pprof", false, "Serve Go profiles at /debug/pprof/ on -port.")
	fs.BoolVar(&o.version, "version", false, "Print the version and exit.")
	fs.StringVar(&o.slackURL, "slack-url", "", "Slack incoming webhook for canaries without alerts of their own (env SLACK_URL).")
	fs.StringVar(&o.slackToken, "slack-token", "", "Bearer token for -slack-url (env SLACK_TOKEN).")
	fs.StringVar(&o.slackChannel, "slack-channel", "", "Slack channel; general when empty.")
	fs.StringVar(&o.slackUser, "slack-user", "flagger", "Slack user name the alerts are posted as.")
	fs.StringVar(&o.slackProxyURL, "slack-proxy-url", "", "HTTP proxy for Slack (env SLACK_PROXY_URL).")
	fs.StringVar(&o.msteamsURL, "msteams-url", "", "Microsoft Teams incoming webhook for canaries without alerts of their own (env MSTEAMS_URL).")
	fs.StringVar(&o.msteamsProxyURL, "msteams-proxy-url", "", "HTTP proxy for Microsoft Teams (env MSTEAMS_PROXY_URL).")
	fs.StringVar(&o.clusterName, "cluster-name", "", "Cluster name shown in alerts.")
	registerFlaggerOnly(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.flaggerOnly = setFlaggerOnly(fs)
	if err := validateFlaggerOnly(o); err != nil {
		return nil, err
	}
	return o, o.validate()
}

// validate rejects flag values that would otherwise fail later, or silently.
func (o *options) validate() error {
	if o.version {
		return nil
	}
	if !isSupportedProvider(o.meshProvider) {
		return fmt.Errorf("-mesh-provider %q is not supported: use %s", o.meshProvider, strings.Join(supportedProviders, " or "))
	}
	if o.threadiness < 1 {
		return fmt.Errorf("-threadiness must be at least 1, got %d", o.threadiness)
	}
	if o.port < 1 || o.port > 65535 {
		return fmt.Errorf("-port must be a TCP port, got %d", o.port)
	}
	if _, err := logrus.ParseLevel(o.logLevel); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	if o.logEncoding != "json" && o.logEncoding != "console" {
		return fmt.Errorf("-zap-encoding must be json or console, got %q", o.logEncoding)
	}
	if len(o.labels()) == 0 {
		return fmt.Errorf("-selector-labels must name at least one label")
	}
	if o.schedulerTick <= 0 {
		return fmt.Errorf("-scheduler-tick must be positive")
	}
	if o.shutdownGrace < 0 {
		return fmt.Errorf("-shutdown-grace must not be negative")
	}
	var err error
	if o.egress, err = egress.Parse(splitList(o.webhookAllowedHosts)); err != nil {
		return err
	}
	return nil
}

func (o *options) labels() []string {
	return splitList(o.selectorLabels)
}

// splitList returns the non-empty, trimmed items of a comma-separated list.
func splitList(list string) []string {
	var items []string
	for item := range strings.SplitSeq(list, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

func isSupportedProvider(p string) bool {
	for _, s := range supportedProviders {
		if p == s {
			return true
		}
	}
	return false
}

// unlistedURLs names the operator's own destinations (global alerts and
// event webhook, after the environment's overrides) that
// -webhook-allowed-hosts does not list as written: their calls will be
// refused unless the name resolves to a listed address.
func unlistedURLs(cfg operator.Config) []string {
	var names []string
	for _, u := range []struct{ name, url string }{
		{"-event-webhook", cfg.EventWebhook},
		{"-slack-url", cfg.Alerts.SlackURL},
		{"-slack-proxy-url", cfg.Alerts.SlackProxy},
		{"-msteams-url", cfg.Alerts.MSTeamsURL},
		{"-msteams-proxy-url", cfg.Alerts.MSTeamsProxy},
	} {
		if u.url != "" && !cfg.Egress.ListsURL(u.url) {
			names = append(names, u.name)
		}
	}
	return names
}

// operatorConfig is the operator the flags describe, reaching the API
// server through rest.
func (o *options) operatorConfig(rest *rest.Config, log *logrus.Entry) operator.Config {
	alerts := notifier.GlobalConfig{SlackURL: o.slackURL, SlackToken: o.slackToken, SlackChannel: o.slackChannel,
		SlackUser: o.slackUser, SlackProxy: o.slackProxyURL, MSTeamsURL: o.msteamsURL, MSTeamsProxy: o.msteamsProxyURL}
	alerts.FillFromEnv(os.Getenv)
	return operator.Config{
		REST:                  rest,
		Logger:                log,
		Namespace:             o.namespace,
		MeshProvider:          o.meshProvider,
		MetricsServer:         o.metricsServer,
		Workers:               o.threadiness,
		SchedulerTick:         o.schedulerTick,
		SelectorLabels:        o.labels(),
		IncludeLabelPrefix:    splitList(o.includeLabelPrefix),
		NoCrossNamespaceRefs:  o.noCrossNamespaceRefs,
		DisableConfigTracking: !o.enableConfigTracking,
		EventWebhook:          cmp.Or(os.Getenv("EVENT_WEBHOOK_URL"), o.eventWebhook),
		Alerts:                alerts,
		ClusterName:           o.clusterName,
		Egress:                o.egress,
	}
}
