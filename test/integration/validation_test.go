package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// validCanarySpec is a minimal Canary spec the cases below break one field at a time.
const validCanarySpec = `
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service:
    port: 9898
    gatewayRefs: [{name: gateway, namespace: istio-ingress}]
  analysis:
    interval: 1m
    threshold: 5
    stepWeight: 10
    maxWeight: 50
`

// TestInvalidObjectsAreRejected checks that the API server refuses bad input
// at admission with a message naming the field, instead of letting the
// operator find out at run time.
func TestInvalidObjectsAreRejected(t *testing.T) {
	ensureNamespace(t, "validation")
	cases := []struct {
		name string
		// kind and spec make the object; spec is YAML indented by two spaces.
		kind, spec string
		// want are substrings of the error: the field path and the reason.
		want []string
	}{
		{"no targetRef", "Canary", `
  service: {port: 9898}
  analysis: {interval: 1m, stepWeight: 10}`, []string{"spec.targetRef", "Required value"}},
		{"targetRef kind", "Canary", strings.Replace(validCanarySpec, "kind: Deployment", "kind: StatefulSet", 1),
			[]string{"spec.targetRef.kind", "Unsupported value"}},
		{"no analysis", "Canary", `
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service: {port: 9898}`, []string{"spec.analysis", "Required value"}},
		{"analysis without a strategy", "Canary", `
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service: {port: 9898}
  analysis: {interval: 1m, threshold: 5}`, []string{"spec.analysis", "analysis needs one of iterations, stepWeight or stepWeights"}},
		{"stepWeight over 100", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10", "stepWeight: 150", 1),
			[]string{"spec.analysis.stepWeight", "less than or equal to 100"}},
		{"negative maxWeight", "Canary", strings.Replace(validCanarySpec, "maxWeight: 50", "maxWeight: -1", 1),
			[]string{"spec.analysis.maxWeight", "greater than or equal to 0"}},
		{"stepWeights decreasing", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10", "stepWeights: [10, 5, 20]", 1),
			[]string{"spec.analysis.stepWeights", "stepWeights must be strictly increasing"}},
		{"stepWeights repeated", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10", "stepWeights: [10, 10]", 1),
			[]string{"spec.analysis.stepWeights[1]", "Duplicate value"}},
		{"stepWeights over 100", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10", "stepWeights: [10, 120]", 1),
			[]string{"spec.analysis.stepWeights[1]", "less than or equal to 100"}},
		// A zero that leaves the selected strategy without a step would
		// promote without a single check.
		{"stepWeight zero", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10", "stepWeight: 0", 1),
			[]string{"spec.analysis.stepWeight", "stepWeight must be at least 1"}},
		{"iterations zero", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10", "iterations: 0", 1),
			[]string{"spec.analysis.iterations", "iterations must be at least 1"}},
		{"iterations zero with match", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10",
			"iterations: 0\n    match: [{headers: {x-canary: {exact: insider}}}]", 1),
			[]string{"spec.analysis.iterations", "iterations must be at least 1"}},
		{"stepWeight and iterations zero", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10", "stepWeight: 0\n    iterations: 0", 1),
			[]string{"spec.analysis.stepWeight", "spec.analysis.iterations", "would promote without analysis"}},
		{"stepWeights zero", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10", "stepWeights: [0]", 1),
			[]string{"spec.analysis.stepWeights[0]", "greater than or equal to 1"}},
		{"stepWeights starting at zero", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10", "stepWeights: [0, 10]", 1),
			[]string{"spec.analysis.stepWeights[0]", "greater than or equal to 1"}},
		{"stepWeights ending at zero", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10", "stepWeights: [10, 0]", 1),
			[]string{"spec.analysis.stepWeights[1]", "greater than or equal to 1"}},
		{"stepWeights empty", "Canary", strings.Replace(validCanarySpec, "stepWeight: 10", "stepWeights: []", 1),
			[]string{"spec.analysis.stepWeights", "should have at least 1 items"}},
		{"deprecated canaryAnalysis stepWeight zero", "Canary", validCanarySpec + "  canaryAnalysis: {stepWeight: 0}\n",
			[]string{"spec.canaryAnalysis.stepWeight", "stepWeight must be at least 1"}},
		{"negative threshold", "Canary", strings.Replace(validCanarySpec, "threshold: 5", "threshold: -1", 1),
			[]string{"spec.analysis.threshold", "greater than or equal to 0"}},
		{"interval not a duration", "Canary", strings.Replace(validCanarySpec, "interval: 1m", "interval: one minute", 1),
			[]string{"spec.analysis.interval", "should match"}},
		{"thresholdRange min above max", "Canary", validCanarySpec + `
    metrics: [{name: error-rate, templateRef: {name: error-rate}, thresholdRange: {min: 5, max: 1}}]`,
			[]string{"spec.analysis.metrics[0].thresholdRange", "thresholdRange.min must not exceed thresholdRange.max"}},
		{"metric without name", "Canary", validCanarySpec + `
    metrics: [{templateRef: {name: error-rate}, thresholdRange: {max: 1}}]`,
			[]string{"spec.analysis.metrics[0].name", "Required value"}},
		{"session cookies equal", "Canary", validCanarySpec + `
    sessionAffinity: {cookieName: flagger, primaryCookieName: flagger}`,
			[]string{"spec.analysis.sessionAffinity", "primaryCookieName must differ from cookieName"}},
		{"gatewayapi without gatewayRefs", "Canary", `
  provider: gatewayapi:v1
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service: {port: 9898}
  analysis: {interval: 1m, stepWeight: 10}`, []string{"spec.service.gatewayRefs", "at least one Gateway is required"}},
		{"unknown provider", "Canary", "\n  provider: envoy" + validCanarySpec,
			[]string{"spec.provider", "Unsupported value"}},
		{"service port zero", "Canary", strings.Replace(validCanarySpec, "port: 9898", "port: 0", 1),
			[]string{"spec.service.port", "greater than or equal to 1"}},
		{"webhook type", "Canary", validCanarySpec + `
    webhooks: [{name: smoke, type: pre-release, url: "http://tester/"}]`,
			[]string{"spec.analysis.webhooks[0].type", "Unsupported value"}},
		{"webhook timeout", "Canary", validCanarySpec + `
    webhooks: [{name: smoke, url: "http://tester/", timeout: ten seconds}]`,
			[]string{"spec.analysis.webhooks[0].timeout", "should match"}},
		{"webhook without url", "Canary", validCanarySpec + `
    webhooks: [{name: smoke}]`,
			[]string{"spec.analysis.webhooks[0].url", "Required value"}},
		{"alert severity", "Canary", validCanarySpec + `
    alerts: [{name: on-call, severity: critical, providerRef: {name: slack}}]`,
			[]string{"spec.analysis.alerts[0].severity", "Unsupported value"}},
		{"two string matches", "Canary", validCanarySpec + `
    match: [{headers: {x-canary: {exact: insider, regex: ".*"}}}]`,
			[]string{"spec.analysis.match[0].headers.x-canary", "must have at most 1 item"}},
		{"metric provider type", "MetricTemplate", `
  provider: {type: graphana, address: "http://grafana"}
  query: up`, []string{"spec.provider.type", "Unsupported value"}},
		{"metric template without query", "MetricTemplate", `
  provider: {type: prometheus, address: "http://prometheus:9090"}`,
			[]string{"spec.query", "Required value"}},
		{"alert provider type", "AlertProvider", `
  type: pagerduty
  address: https://events.pagerduty.com`, []string{"spec.type", "Unsupported value"}},
		{"alert provider without address", "AlertProvider", `
  type: slack
  channel: general`, []string{"spec", "set spec.address or spec.secretRef"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			manifest := fmt.Sprintf("apiVersion: flagger.app/v1beta1\nkind: %s\nmetadata:\n  name: invalid-%d\n  namespace: validation\nspec:%s\n",
				tc.kind, i, tc.spec)
			objs := decodeObjects(t, manifest)
			require.Len(t, objs, 1)
			_, err := dyn.Resource(resourceFor(t, objs[0])).Namespace("validation").
				Create(context.Background(), objs[0], metav1.CreateOptions{})
			require.Error(t, err, "the API server accepted:\n%s", manifest)
			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
	t.Run("the valid base is accepted", func(t *testing.T) {
		manifest := "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: valid\n  namespace: validation\nspec:" + validCanarySpec
		objs := decodeObjects(t, manifest)
		_, err := dyn.Resource(canaries).Namespace("validation").Create(context.Background(), objs[0], metav1.CreateOptions{})
		require.NoError(t, err)
	})
}

// TestZerosFlaggerIgnoresAreAccepted checks the other side of the rules on
// zero steps: a zero that the selected strategy ignores, or that Flagger
// reads as its default, is legal in Flagger manifests and must stay legal.
func TestZerosFlaggerIgnoresAreAccepted(t *testing.T) {
	ensureNamespace(t, "validation-zeros")
	for i, analysis := range []string{
		"stepWeight: 10\n    iterations: 0",
		"stepWeights: [5, 10]\n    iterations: 0",
		"stepWeights: [5, 10]\n    stepWeight: 0",
		"iterations: 5\n    stepWeight: 0",
		"iterations: 5\n    stepWeight: 0\n    match: [{headers: {x-canary: {exact: insider}}}]",
		"stepWeight: 10\n    maxWeight: 0",
		"stepWeight: 10\n    stepWeightPromotion: 0",
		"stepWeight: 10\n    threshold: 0",
	} {
		t.Run(strings.ReplaceAll(analysis, "\n    ", ", "), func(t *testing.T) {
			// threshold and maxWeight leave the base, as some cases set them.
			spec := strings.NewReplacer("    threshold: 5\n", "", "    maxWeight: 50\n", "", "stepWeight: 10", analysis).
				Replace(validCanarySpec)
			manifest := fmt.Sprintf("apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata:\n  name: zeros-%d\n  namespace: validation-zeros\nspec:%s",
				i, spec)
			objs := decodeObjects(t, manifest)
			require.Len(t, objs, 1)
			_, err := dyn.Resource(canaries).Namespace("validation-zeros").
				Create(context.Background(), objs[0], metav1.CreateOptions{})
			require.NoError(t, err, "the API server rejected:\n%s", manifest)
		})
	}
}

// TestTestdataManifestsStillApply applies every manifest of test/testdata
// (the seed manifests have TestSeedManifestsRoundTrip), so that a stricter
// admission rule cannot reject one the e2e tests rely on.
func TestTestdataManifestsStillApply(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			applyAndCompare(t, file)
		})
	}
}
