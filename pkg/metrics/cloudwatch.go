package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

const (
	// cloudWatchWindowIntervals is how many metric intervals back a query
	// starts, as in Flagger: enough periods for the newest one to be complete.
	cloudWatchWindowIntervals = 10
	// cloudWatchMaxDatapoints is Flagger's cap on the points per result; only
	// the newest is read.
	cloudWatchMaxDatapoints = 20
	// cloudWatchMaxAttempts is Flagger's 3 retries after the first attempt.
	cloudWatchMaxAttempts = 4
)

// cloudWatch runs GetMetricData queries through the AWS SDK, which finds
// credentials as Flagger's does (environment, shared files, IRSA web
// identity, ECS and EC2 metadata) and signs every request with SigV4.
type cloudWatch struct {
	client  *cloudwatch.Client
	window  time.Duration
	timeout time.Duration
}

var _ Provider = (*cloudWatch)(nil)

// newCloudWatch needs provider.region; provider.address and secretRef are
// not used, as in Flagger (the SDK's AWS_ENDPOINT_URL_CLOUDWATCH variable
// points it elsewhere).
func newCloudWatch(cfg ProviderConfig) (*cloudWatch, error) {
	if cfg.Region == "" {
		return nil, errors.New("cloudwatch provider.region is required")
	}
	interval, err := metricInterval(cfg)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(cfg.Region), config.WithRetryMaxAttempts(cloudWatchMaxAttempts))
	if err != nil {
		return nil, fmt.Errorf("loading the AWS SDK configuration: %w", err)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	return &cloudWatch{
		client:  cloudwatch.NewFromConfig(awsCfg),
		window:  cloudWatchWindowIntervals * interval,
		timeout: timeout,
	}, nil
}

// RunQuery reads the query as a JSON array of MetricDataQuery (the field
// names of the API: Id, Expression, MetricStat, ReturnData, ...), asks for
// the 10 metric intervals that end at `at`, and returns the newest value of
// the first result. A result without values is no data.
func (c *cloudWatch) RunQuery(ctx context.Context, query string, at time.Time) (float64, error) {
	var queries []types.MetricDataQuery
	if err := json.Unmarshal([]byte(query), &queries); err != nil {
		return 0, fmt.Errorf("cloudwatch query is not a JSON array of MetricDataQuery: %w", err)
	}
	if at.IsZero() {
		at = time.Now()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	out, err := c.client.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		MetricDataQueries: queries,
		StartTime:         aws.Time(at.Add(-c.window)),
		EndTime:           aws.Time(at),
		MaxDatapoints:     aws.Int32(cloudWatchMaxDatapoints),
		// The API's default order, said explicitly: Values[0] is the newest.
		ScanBy: types.ScanByTimestampDescending,
	})
	if err != nil {
		return 0, fmt.Errorf("cloudwatch GetMetricData: %w", err)
	}
	if len(out.MetricDataResults) == 0 {
		return 0, fmt.Errorf("cloudwatch returned no result: %w", ErrNoValues)
	}
	first := out.MetricDataResults[0]
	if len(first.Values) == 0 {
		return 0, fmt.Errorf("cloudwatch result %s (status %s) has no value: %w",
			aws.ToString(first.Id), first.StatusCode, ErrNoValues)
	}
	return first.Values[0], nil
}

// IsOnline sends an empty GetMetricData, as Flagger does: AWS answers a
// signed request from a principal allowed cloudwatch:GetMetricData with 400
// (no query), and anything else (403 for a missing permission or a bad
// signature, no credentials at all) means offline.
func (c *cloudWatch) IsOnline(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	_, err := c.client.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		MetricDataQueries: []types.MetricDataQuery{},
		StartTime:         aws.Time(time.Time{}),
		EndTime:           aws.Time(time.Time{}),
	})
	if err == nil {
		return true, nil
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		return false, fmt.Errorf("cloudwatch GetMetricData: %w", err)
	}
	if re.HTTPStatusCode() != http.StatusBadRequest {
		return false, fmt.Errorf("cloudwatch GetMetricData: unexpected status %d: %w", re.HTTPStatusCode(), err)
	}
	return true, nil
}
