package prometheus

import "time"

// DefaultScrapeInterval is the scrape and rule evaluation interval when Options.ScrapeInterval
// is zero.
const DefaultScrapeInterval = time.Second

// KeepEnv names the environment variable that, set to 1 (or true), keeps a server's directory
// (configuration, log and TSDB) after Stop, as it keeps a test cluster's.
const KeepEnv = "SERIN_KEEP_CLUSTER"

// Options configures Start.
type Options struct {
	// ScrapeTargets are the host:port addresses to scrape at /metrics, as one static job.
	ScrapeTargets []string

	// ScrapeInterval is how often targets are scraped and rules evaluated; zero means
	// DefaultScrapeInterval. Prometheus only accepts whole milliseconds.
	ScrapeInterval time.Duration

	// Config, when set, is the whole prometheus.yml, used as it is: ScrapeTargets and
	// ScrapeInterval are then ignored. It is for scrape configurations beyond static targets,
	// such as Kubernetes service discovery.
	Config []byte

	// Logf, when set, receives progress lines such as how long the server took to be ready.
	Logf func(format string, args ...any)
}

func (o Options) scrapeInterval() time.Duration {
	if o.ScrapeInterval <= 0 {
		return DefaultScrapeInterval
	}
	return o.ScrapeInterval
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}
