package metrics

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/klog/v2"
)

// Keptn's metrics operator API (metrics.keptn.sh/v1beta1, Keptn 2.x), as
// Flagger reads it.
var (
	keptnGroupVersion = schema.GroupVersion{Group: "metrics.keptn.sh", Version: "v1beta1"}
	keptnMetrics      = keptnGroupVersion.WithResource("keptnmetrics")
	keptnAnalyses     = keptnGroupVersion.WithResource("analyses")
)

const (
	// keptnAnalysisTimeout is how long Flagger waits for Keptn to complete
	// an Analysis it created.
	keptnAnalysisTimeout = 10 * time.Second
	// keptnPollInterval is how often the Analysis is read meanwhile.
	keptnPollInterval = time.Second
	// keptnAnalysisCompleted is the state of an Analysis with a result.
	keptnAnalysisCompleted = "Completed"
	// keptnCleanupTimeout bounds the deletion of a finished Analysis.
	keptnCleanupTimeout = 5 * time.Second
)

// keptn reads the value of a KeptnMetric, or runs a Keptn Analysis and
// returns 1 when it passed and 0 when it failed.
type keptn struct {
	client          dynamic.Interface
	discovery       discovery.DiscoveryInterface
	queryTimeout    time.Duration
	analysisTimeout time.Duration
	pollInterval    time.Duration
}

var _ Provider = (*keptn)(nil)

// newKeptn uses the operator's own API server; like Flagger it ignores the
// template's address and secret. A non-zero cfg.Timeout bounds both the
// KeptnMetric read and the wait for an Analysis (Flagger: 10 s).
func newKeptn(cfg ProviderConfig) (*keptn, error) {
	if cfg.Cluster == nil {
		return nil, errors.New("could not initialize KeptnProvider: no KubeConfig provided")
	}
	client, err := dynamic.NewForConfig(cfg.Cluster)
	if err != nil {
		return nil, fmt.Errorf("could not initialize KeptnProvider: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg.Cluster)
	if err != nil {
		return nil, fmt.Errorf("could not initialize KeptnProvider: %w", err)
	}
	k := &keptn{
		client: client, discovery: disc,
		queryTimeout: DefaultQueryTimeout, analysisTimeout: keptnAnalysisTimeout, pollInterval: keptnPollInterval,
	}
	if cfg.Timeout > 0 {
		k.queryTimeout, k.analysisTimeout = cfg.Timeout, cfg.Timeout
	}
	return k, nil
}

// RunQuery runs a keptnmetric/... or analysis/... query (see
// parseKeptnQuery). The KeptnMetric holds its latest value only and an
// Analysis covers the duration before now: at is ignored.
func (k *keptn) RunQuery(ctx context.Context, query string, _ time.Time) (float64, error) {
	q, err := parseKeptnQuery(query)
	if err != nil {
		return 0, err
	}
	if q.resource == keptnMetrics {
		return k.metricValue(ctx, q)
	}
	return k.runAnalysis(ctx, q)
}

// IsOnline reports whether the API server serves Keptn's metrics API.
// Unlike Flagger, which always answers true, a cluster without Keptn is
// reported offline (a warning event; it does not stop the canary).
func (k *keptn) IsOnline(ctx context.Context) (bool, error) {
	_, err := k.discovery.ServerResourcesForGroupVersion(keptnGroupVersion.String())
	if err != nil {
		return false, fmt.Errorf("keptn metrics API %s is not served: %w", keptnGroupVersion, err)
	}
	return true, nil
}

// metricValue returns a KeptnMetric's status.value, a decimal string that
// Keptn's metrics operator refreshes every spec.fetchIntervalSeconds.
func (k *keptn) metricValue(ctx context.Context, q keptnQuery) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, k.queryTimeout)
	defer cancel()
	obj, err := k.client.Resource(keptnMetrics).Namespace(q.namespace).Get(ctx, q.name, metav1.GetOptions{})
	if err != nil {
		return 0, fmt.Errorf("could not retrieve KeptnMetric %s/%s: %w", q.namespace, q.name, err)
	}
	value, found, _ := unstructured.NestedString(obj.Object, "status", "value")
	if !found || value == "" {
		// Keptn records why its last fetch failed; that is the useful part.
		if msg, _, _ := unstructured.NestedString(obj.Object, "status", "errMsg"); msg != "" {
			return 0, fmt.Errorf("could not retrieve KeptnMetric - no value found in resource %s/%s: %s", q.namespace, q.name, msg)
		}
		return 0, fmt.Errorf("could not retrieve KeptnMetric - no value found in resource %s/%s", q.namespace, q.name)
	}
	f, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return 0, fmt.Errorf("could not parse value of KeptnMetric %s/%s to float: %w", q.namespace, q.name, err)
	}
	return f, nil
}

// runAnalysis creates an Analysis of the AnalysisDefinition q names over
// the last q.duration, waits for Keptn to complete it and deletes it.
func (k *keptn) runAnalysis(ctx context.Context, q keptnQuery) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, k.analysisTimeout)
	defer cancel()
	analyses := k.client.Resource(keptnAnalyses).Namespace(q.namespace)
	created, err := analyses.Create(ctx, newKeptnAnalysis(q), metav1.CreateOptions{})
	if err != nil {
		return 0, fmt.Errorf("could not create Keptn Analysis %s/%s: %w", q.namespace, q.name, err)
	}
	defer k.deleteAnalysis(ctx, created)

	ticker := time.NewTicker(k.pollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("encountered timeout while waiting for Keptn Analysis %s/%s to be finished: %w",
				q.namespace, q.name, ctx.Err())
		case <-ticker.C:
		}
		obj, err := analyses.Get(ctx, created.GetName(), metav1.GetOptions{})
		if err != nil {
			if ctx.Err() != nil {
				continue // the timeout above names the Analysis
			}
			return 0, fmt.Errorf("could not check status of created Keptn Analysis %s/%s: %w", q.namespace, q.name, err)
		}
		if v, done, err := analysisResult(obj); err != nil {
			return 0, fmt.Errorf("could not check status of created Keptn Analysis %s/%s: %w", q.namespace, q.name, err)
		} else if done {
			return v, nil
		}
	}
}

// analysisResult returns 1 for a completed Analysis that passed, 0 for one
// that failed, and done false while Keptn is still working on it.
//
// Unlike Flagger, which waits for status.pass to be present and so times
// out on every failed Analysis (Keptn's status omits a false pass), a
// completed Analysis without pass counts as failed.
func analysisResult(obj *unstructured.Unstructured) (value float64, done bool, err error) {
	state, _, err := unstructured.NestedString(obj.Object, "status", "state")
	if err != nil || state != keptnAnalysisCompleted {
		return 0, false, err
	}
	pass, _, err := unstructured.NestedBool(obj.Object, "status", "pass")
	if err != nil {
		return 0, false, err
	}
	if pass {
		return 1, true, nil
	}
	return 0, true, nil
}

// deleteAnalysis removes an Analysis once its result is read (or the wait
// gave up), even when the query's context has ended.
func (k *keptn) deleteAnalysis(ctx context.Context, obj *unstructured.Unstructured) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keptnCleanupTimeout)
	defer cancel()
	err := k.client.Resource(keptnAnalyses).Namespace(obj.GetNamespace()).Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		// The check's result stands; a leftover Analysis is only clutter.
		klog.FromContext(ctx).Error(err, "Could not delete Keptn Analysis", "analysis", klog.KObj(obj))
	}
}

// newKeptnAnalysis is the Analysis Flagger creates for a query: named after
// the AnalysisDefinition with a random suffix, over the recent duration.
func newKeptnAnalysis(q keptnQuery) *unstructured.Unstructured {
	args := map[string]any{}
	for key, v := range q.args {
		args[key] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": keptnGroupVersion.String(),
		"kind":       "Analysis",
		"metadata": map[string]any{
			// The API server adds the suffix (Flagger: six characters of a
			// UUID); a generated name never collides with a leftover one.
			"generateName": q.name + "-",
			"namespace":    q.namespace,
		},
		"spec": map[string]any{
			"analysisDefinition": map[string]any{"name": q.name},
			"timeframe":          map[string]any{"recent": q.duration},
			"args":               args,
		},
	}}
}
