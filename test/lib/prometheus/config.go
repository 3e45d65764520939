package prometheus

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/prometheus/common/model"
)

// jobName is the job label of the scraped targets.
const jobName = "serin-test"

// config is the subset of prometheus.yml that the tests need.
type config struct {
	Global        globalConfig   `json:"global"`
	ScrapeConfigs []scrapeConfig `json:"scrape_configs"`
}

type globalConfig struct {
	ScrapeInterval     string `json:"scrape_interval"`
	ScrapeTimeout      string `json:"scrape_timeout"`
	EvaluationInterval string `json:"evaluation_interval"`
}

type scrapeConfig struct {
	JobName       string         `json:"job_name"`
	StaticConfigs []staticConfig `json:"static_configs"`
}

type staticConfig struct {
	Targets []string `json:"targets"`
}

// renderConfig returns the configuration file for opts. It is JSON, which is also YAML: no
// quoting rules to get wrong.
func renderConfig(opts Options) ([]byte, error) {
	if len(opts.Config) > 0 {
		return opts.Config, nil
	}
	interval := opts.scrapeInterval()
	if interval%time.Millisecond != 0 {
		return nil, fmt.Errorf("prometheus: scrape interval %s is not a whole number of milliseconds", interval)
	}
	for _, t := range opts.ScrapeTargets {
		if _, _, err := net.SplitHostPort(t); err != nil {
			return nil, fmt.Errorf("prometheus: scrape target %q is not host:port: %w", t, err)
		}
	}
	if len(opts.ScrapeTargets) == 0 {
		return nil, errors.New("prometheus: no scrape targets")
	}
	d := model.Duration(interval).String()
	// The timeout may not exceed the interval, and its default (10s) would.
	c := config{
		Global: globalConfig{ScrapeInterval: d, ScrapeTimeout: d, EvaluationInterval: d},
		ScrapeConfigs: []scrapeConfig{{
			JobName:       jobName,
			StaticConfigs: []staticConfig{{Targets: opts.ScrapeTargets}},
		}},
	}
	return json.MarshalIndent(c, "", "  ")
}
