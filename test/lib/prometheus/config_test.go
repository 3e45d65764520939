package prometheus

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRenderConfig(t *testing.T) {
	out, err := renderConfig(Options{ScrapeTargets: []string{"127.0.0.1:9101", "[::1]:9102"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
		"scrape_configs": [{"job_name": "serin-test",
			"static_configs": [{"targets": ["127.0.0.1:9101", "[::1]:9102"]}]}]
	}`, string(out))

	out, err = renderConfig(Options{ScrapeTargets: []string{"localhost:80"}, ScrapeInterval: 1500 * time.Millisecond})
	require.NoError(t, err)
	var c config
	require.NoError(t, json.Unmarshal(out, &c))
	assert.Equal(t, globalConfig{ScrapeInterval: "1s500ms", ScrapeTimeout: "1s500ms", EvaluationInterval: "1s500ms"}, c.Global)
}

func TestRenderConfigRejects(t *testing.T) {
	for name, opts := range map[string]Options{
		"no targets":      {},
		"not host:port":   {ScrapeTargets: []string{"http://127.0.0.1:9101/metrics"}},
		"sub-millisecond": {ScrapeTargets: []string{"127.0.0.1:1"}, ScrapeInterval: time.Second + time.Microsecond},
		"one of many bad": {ScrapeTargets: []string{"127.0.0.1:1", "nope"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := renderConfig(opts)
			assert.Error(t, err)
		})
	}
}

func TestBinaryIn(t *testing.T) {
	dir := t.TempDir()
	_, err := binaryIn(dir)
	assert.ErrorContains(t, err, "`hack/testbin.sh prometheus`", "the error says how to build it")

	bin := filepath.Join(dir, "prometheus")
	require.NoError(t, os.WriteFile(bin, nil, 0o755))
	got, err := binaryIn(dir)
	require.NoError(t, err)
	assert.Equal(t, bin, got)
}

func TestRenderConfigCustom(t *testing.T) {
	custom := []byte("scrape_configs: [{job_name: pods, kubernetes_sd_configs: [{role: pod}]}]\n")
	out, err := renderConfig(Options{Config: custom, ScrapeTargets: []string{"ignored"}})
	require.NoError(t, err)
	assert.Equal(t, custom, out)
}
