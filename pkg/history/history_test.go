package history

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

var t0 = time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)

func entry(i int) Entry {
	return Entry{
		Time: t0.Add(time.Duration(i) * time.Minute), Phase: flaggerv1.CanaryPhaseProgressing, Weight: 10 * i,
		Checks: []flaggerv1.CheckResult{{Kind: flaggerv1.MetricCheck, Name: "error-rate", Value: "0.5", Threshold: "max 1",
			Verdict: flaggerv1.CheckPass, Query: "sum(rate(errors[1m]))"}},
		Events: []Event{{Type: "Normal", Reason: "Synced", Message: "Advance podinfo.test canary weight 10"}},
	}
}

func TestAppendAndParse(t *testing.T) {
	var data map[string]string
	var err error
	for i := 1; i <= 3; i++ {
		data, err = Append(data, 1, entry(i), DefaultLimits)
		require.NoError(t, err)
	}
	data, err = Append(data, 2, entry(9), DefaultLimits)
	require.NoError(t, err)

	runs, err := Parse(data)
	require.NoError(t, err)
	require.Len(t, runs, 2)
	assert.Equal(t, 1, runs[0].Number)
	require.Len(t, runs[0].Entries, 3)
	assert.Equal(t, entry(2), runs[0].Entries[1], "an entry reads back as written")
	assert.Equal(t, 2, runs[1].Number)
	assert.Len(t, runs[1].Entries, 1)
}

func TestAppendDoesNotChangeItsInput(t *testing.T) {
	data, err := Append(nil, 1, entry(1), DefaultLimits)
	require.NoError(t, err)
	before := data[Key(1)]
	_, err = Append(data, 1, entry(2), DefaultLimits)
	require.NoError(t, err)
	assert.Equal(t, before, data[Key(1)])
}

func TestAppendKeepsTheLastRuns(t *testing.T) {
	l := Limits{Runs: 3, RunBytes: 4096}
	data := map[string]string{"unrelated": "kept"}
	var err error
	for run := 1; run <= 7; run++ {
		data, err = Append(data, run, entry(run), l)
		require.NoError(t, err)
	}
	runs, err := Parse(data)
	require.NoError(t, err)
	var numbers []int
	for _, r := range runs {
		numbers = append(numbers, r.Number)
	}
	assert.Equal(t, []int{5, 6, 7}, numbers)
	assert.Equal(t, "kept", data["unrelated"], "keys that are not runs are left alone")
}

func TestAppendCutsARunFromItsOldestTicks(t *testing.T) {
	l := Limits{Runs: 2, RunBytes: 2048}
	var data map[string]string
	var err error
	for i := 1; i <= 40; i++ {
		data, err = Append(data, 1, entry(i), l)
		require.NoError(t, err)
		require.LessOrEqual(t, len(data[Key(1)]), l.RunBytes, "after tick %d", i)
	}
	runs, err := Parse(data)
	require.NoError(t, err)
	es := runs[0].Entries
	require.NotEmpty(t, es)
	assert.Equal(t, entry(40).Time, es[len(es)-1].Time, "the last tick is kept")
	assert.Equal(t, 40, es[0].Dropped+len(es), "the first entry counts what was dropped")
}

func TestAppendShrinksAnEntryLargerThanTheBudget(t *testing.T) {
	e := entry(1)
	e.Checks[0].Query = strings.Repeat("x", 5000)
	data, err := Append(nil, 1, e, Limits{Runs: 1, RunBytes: 2048})
	require.NoError(t, err)
	runs, err := Parse(data)
	require.NoError(t, err)
	require.Len(t, runs[0].Entries, 1)
	assert.Less(t, len(runs[0].Entries[0].Checks[0].Query), 600)
}

func TestParseNamesABadLine(t *testing.T) {
	_, err := Parse(map[string]string{"run-3": "{\"time\":\"2026-12-06T01:00:00Z\"}\nnot json\n"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "history run-3 line 2")
}

func TestName(t *testing.T) {
	assert.Equal(t, "podinfo-history", Name("podinfo"))
	long := strings.Repeat("a", 253)
	n := Name(long)
	assert.Len(t, n, 253)
	assert.True(t, strings.HasSuffix(n, "-history"))
	assert.NotEqual(t, n, Name(strings.Repeat("a", 252)+"b"), "the hash tells long names apart")
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "short", Truncate("short", 10))
	got := Truncate("ééééé", 6)
	assert.LessOrEqual(t, len(got), 6)
	assert.True(t, strings.HasSuffix(got, "…"))
}
