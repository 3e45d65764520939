package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	externalv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
)

// externalMetrics reads the Kubernetes External Metrics API
// (external.metrics.k8s.io/v1beta1), which an adapter such as KEDA or the
// Prometheus adapter serves through the API server's aggregator.
type externalMetrics struct {
	client  rest.Interface
	timeout time.Duration
}

var _ Provider = (*externalMetrics)(nil)

// newExternalMetrics builds the client from the operator's own API server
// (ProviderConfig.Cluster); the template's address replaces its host, the
// secret's token its credentials, insecureSkipVerify its certificate check.
func newExternalMetrics(cfg ProviderConfig) (*externalMetrics, error) {
	if cfg.Cluster == nil {
		return nil, errors.New("externalmetrics needs the Kubernetes API server, and the operator has none configured")
	}
	rc := rest.CopyConfig(cfg.Cluster)
	if cfg.Address != "" {
		rc.Host = cfg.Address
	}
	if token, ok := cfg.Credentials["token"]; ok {
		// The token replaces the operator's own credentials rather than
		// adding to them: an API server authenticates a client certificate
		// before a bearer token, so the token would otherwise go unused.
		rc = rest.AnonymousClientConfig(rc)
		rc.BearerToken = string(token)
	}
	if cfg.InsecureSkipVerify {
		// Unlike Flagger, which keeps the in-cluster CA and so fails with
		// "specifying a root certificates file with the insecure flag is
		// not allowed", drop the CA the user asked not to check against.
		rc.Insecure = true
		rc.CAFile, rc.CAData = "", nil
	}
	rc.APIPath = "/apis"
	rc.GroupVersion = &externalv1beta1.SchemeGroupVersion
	// The list types are not registered in client-go's scheme: a decoder
	// without conversion decodes straight into them.
	rc.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	if rc.UserAgent == "" {
		rc.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	client, err := rest.RESTClientFor(rc)
	if err != nil {
		return nil, fmt.Errorf("error creating external metric client: %w", err)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	return &externalMetrics{client: client, timeout: timeout}, nil
}

// RunQuery lists a metric and returns the value of its first item, as
// Flagger does (an adapter lists one item per matching series; the query's
// labelSelector is how to pick one). The API has no evaluation time: at is
// ignored and the adapter's current value is returned.
func (p *externalMetrics) RunQuery(ctx context.Context, query string, _ time.Time) (float64, error) {
	q, err := parseExternalMetricsQuery(query)
	if err != nil {
		return 0, fmt.Errorf("error parsing metric query: %w", err)
	}
	list, err := p.list(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("error querying external metrics API: %w", err)
	}
	if len(list.Items) == 0 {
		return 0, fmt.Errorf("no external metrics found: %w", ErrNoValues)
	}
	return list.Items[0].Value.AsApproximateFloat64(), nil
}

// IsOnline reads the API's discovery document, which the aggregator
// answers 404 for when no APIService registers the API and 503 for while
// the adapter behind it is unavailable.
//
// Unlike Flagger, which lists a metric named dummy-metric in kube-system
// and reports offline on any error: adapters such as KEDA and the
// Prometheus adapter answer an unknown metric with an error, so Flagger
// reports them offline even when they work.
func (p *externalMetrics) IsOnline(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	path := "/apis/" + externalv1beta1.SchemeGroupVersion.String()
	if err := p.client.Get().AbsPath(path).Do(ctx).Error(); err != nil {
		return false, fmt.Errorf("external metrics service unavailable: %w", err)
	}
	return true, nil
}

func (p *externalMetrics) list(ctx context.Context, q externalQuery) (*externalv1beta1.ExternalMetricValueList, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	out := &externalv1beta1.ExternalMetricValueList{}
	err := p.client.Get().
		Namespace(q.namespace).
		Resource(q.metric).
		VersionedParams(&metav1.ListOptions{LabelSelector: q.selector.String()}, metav1.ParameterCodec).
		Do(ctx).
		Into(out)
	return out, err
}

// externalQuery is a parsed externalmetrics query.
type externalQuery struct {
	namespace, metric string
	selector          labels.Selector
}

// externalQueryFormat is the query syntax, quoted in parse errors.
const externalQueryFormat = "<namespace>/<metricName>?labelSelector=<urlencoded label selectors>"

// parseExternalMetricsQuery parses Flagger's query syntax,
// <namespace>/<metricName>?labelSelector=<urlencoded selector>, where only
// the metric name is required and the namespace defaults to default.
// Unlike Flagger, which drops parameters it cannot unescape (and so would
// list the metric unfiltered), a malformed escape is an error.
func parseExternalMetricsQuery(query string) (externalQuery, error) {
	// A scheme in front lets url.Parse split the path from the parameters.
	u, err := url.Parse("query:///" + strings.TrimSpace(query))
	if err != nil {
		return externalQuery{}, fmt.Errorf("malformed query string, expected %s, got %s", externalQueryFormat, query)
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	q := externalQuery{namespace: "default", selector: labels.Everything()}
	switch len(parts) {
	case 1:
		q.metric = parts[0]
	case 2:
		if parts[0] != "" {
			q.namespace = parts[0]
		}
		q.metric = parts[1]
	default:
		return externalQuery{}, fmt.Errorf("malformed query string, too many slashes, expected %s, got %s", externalQueryFormat, query)
	}
	if q.metric == "" {
		return externalQuery{}, errors.New("metric name cannot be empty")
	}
	params, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return externalQuery{}, fmt.Errorf("malformed query parameters, expected %s, got %s: %w", externalQueryFormat, query, err)
	}
	if raw := params.Get("labelSelector"); raw != "" {
		sel, err := labels.Parse(raw)
		if err != nil {
			return externalQuery{}, fmt.Errorf("error parsing label selector from string %s: %w", raw, err)
		}
		q.selector = sel
	}
	return q, nil
}
