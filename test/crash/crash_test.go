package crash

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Environment variables of the long run (make test-crash).
const (
	// fullEnv=1 interrupts every write of every scenario; otherwise a
	// sample runs (make test).
	fullEnv = "SERIN_CRASH_FULL"
	// scenariosEnv limits the run to a comma-separated list of scenarios.
	scenariosEnv = "SERIN_CRASH_SCENARIOS"
	// reportEnv names a file the table is also written to.
	reportEnv = "SERIN_CRASH_REPORT"
)

// sampled are the scenarios whose every write the short run interrupts;
// the others run fault-free and at their middle and last writes.
var sampled = []string{"rollback-metrics"}

// TestInterruptEveryWrite runs each scenario without a fault, then again
// for every k from 1 to the number of writes of that fault-free run: once
// failing write k, once killing the operator right after it, and once
// applying it but losing its answer (a timeout); it checks the invariants
// of issue 12 on every run. The short run (make test) interrupts only
// the middle and last writes of most scenarios, and not with timeouts.
func TestInterruptEveryWrite(t *testing.T) {
	full := os.Getenv(fullEnv) != ""
	only := os.Getenv(scenariosEnv)
	tab := newTable()
	t.Run("scenarios", func(t *testing.T) {
		for _, scn := range scenarios {
			if only != "" && !slices.Contains(strings.Split(only, ","), scn.name) {
				continue
			}
			t.Run(scn.name, func(t *testing.T) {
				t.Parallel()
				ref, err := execute(t.Context(), testEnv, scn, faultless, 0, nil)
				require.NoError(t, err)
				tab.add(ref)
				t.Logf("fault-free run:\n%s\n    writes: %s", ref.describe(), strings.Join(ref.writes, ", "))
				verdict(t, ref)
				require.NotEmpty(t, ref.writes, "the fault-free release wrote nothing")
				every := full || slices.Contains(sampled, scn.name)
				modes := []mode{fail, kill}
				if every {
					modes = append(modes, timeout)
				}
				for _, k := range scn.points(ref.writes, every) {
					for _, m := range modes {
						t.Run(fmt.Sprintf("k=%d/%s", k, m), func(t *testing.T) {
							t.Parallel()
							res, err := execute(t.Context(), testEnv, scn, m, k, ref)
							require.NoError(t, err)
							tab.add(res)
							verdict(t, res)
						})
					}
				}
			})
		}
	})
	report := tab.render()
	fmt.Println(report)
	if path := os.Getenv(reportEnv); path != "" {
		require.NoError(t, os.WriteFile(path, []byte(report), 0o644))
	}
}

// points returns the writes to interrupt: all of them, or the ones the
// scenario picks for the short run, by default the one in the middle and
// the last.
func (s *scenario) points(writes []string, all bool) []int {
	var ks []int
	n := len(writes)
	for k := 1; k <= n; k++ {
		picked := k == (n+1)/2 || k == n
		if s.shortRun != nil {
			picked = s.shortRun(writes[k-1])
		}
		if all || picked {
			ks = append(ks, k)
		}
	}
	return ks
}

// verdict fails the test for a run that broke an invariant, unless the
// cause is a known open item of issue 12, which skips it by name.
func verdict(t *testing.T, res *result) {
	t.Helper()
	if len(res.violations) == 0 {
		return
	}
	if item := knownIssue(res); item != "" {
		if res.mode == faultless {
			// The interrupted runs still run, and fail on anything else.
			t.Logf("known, %s:\n%s", item, res.describe())
			return
		}
		t.Skipf("known, %s:\n%s", item, res.describe())
	}
	t.Errorf("%s\nversions:\n    %s\nwrites: %s\noperator log (tail):\n%s", res.describe(),
		strings.Join(res.versions, "\n    "), strings.Join(res.writes, ", "), res.logs)
}

// knownIssue names the known problems that explain every violation of a
// run, or "" if any violation is unexplained. Each rule describes its
// symptom as the harness sees it, not write numbers, which move as the
// operator's writes change.
func knownIssue(res *result) string {
	var names []string
	for _, v := range res.violations {
		explained := false
		for _, item := range knownItems {
			if item.explains(res, v) {
				explained = true
				if !slices.Contains(names, item.name) {
					names = append(names, item.name)
				}
				break
			}
		}
		if !explained {
			return ""
		}
	}
	return strings.Join(names, "; ")
}

// knownItem is an open item of issue 12 and the violations it explains.
type knownItem struct {
	name     string
	explains func(res *result, violation string) bool
}

// knownItems are the problems found here and not fixed yet. Items 1, 2
// and 4 of issue 12, the skipAnalysis initialisation and the step retried
// after a failed status write, all found here, are fixed; so are two of
// the judge's (issue 14): a judged Canary deleted mid-run left the route's
// baseline weight on a deleted baseline, and an interrupted judge rollback
// or early promotion was re-asserted to the step's weights first. An item
// is added here, never an invariant weakened, when the harness finds
// something not yet fixed.
var knownItems = []knownItem{
	{
		// A tick resumed at the instant it was interrupted (a retry after
		// a failed or lost write, or a fresh operator's first tick) counts
		// the interrupted step as taken and takes the next one at once, as
		// issue 12's resumption intends. Without the judge the weights go
		// through the same sequence; with it, the resumed tick folds in
		// no new traffic, so the verdict comes one step later.
		name: "issue 14: a resumed tick steps at once, and the judge decides one step later",
		explains: func(res *result, v string) bool {
			if !strings.HasPrefix(res.scenario, "judge-") {
				return false
			}
			if !strings.HasPrefix(v, "route weights differ") && !strings.HasPrefix(v, "the canary reached") {
				return false
			}
			return analysisSteps(res.shapes) == analysisSteps(res.refShapes)+1
		},
	},
}

// analysisSteps counts the route's shapes that give the baseline weight:
// the steps of a judged analysis.
func analysisSteps(shapes []string) int {
	n := 0
	for _, s := range shapes {
		if strings.Contains(s, "baseline=") && !strings.Contains(s, "baseline=0") {
			n++
		}
	}
	return n
}
