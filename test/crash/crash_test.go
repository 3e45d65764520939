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
// the others run fault-free and at a few writes spread over the release.
var sampled = []string{"promotion", "rollback-metrics"}

// TestInterruptEveryWrite runs each scenario without a fault, then again
// for every k from 1 to the number of writes of that fault-free run, once
// failing write k and once killing the operator right after it, and checks
// the invariants of issue 12 on every run.
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
				for _, k := range points(len(ref.writes), full || slices.Contains(sampled, scn.name)) {
					for _, m := range []mode{fail, kill} {
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

// points returns the writes to interrupt: all of them, or the first, one
// in the middle and the last.
func points(writes int, all bool) []int {
	var ks []int
	for k := 1; k <= writes; k++ {
		if all || k == 1 || k == (writes+1)/2 || k == writes {
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
		t.Skipf("issue 12 %s (not fixed yet):\n%s", item, res.describe())
	}
	t.Errorf("%s\nversions:\n    %s\nwrites: %s\noperator log (tail):\n%s", res.describe(),
		strings.Join(res.versions, "\n    "), strings.Join(res.writes, ", "), res.logs)
}

// knownIssue names the open item of issue 12 that explains a run's
// violations, or "".
func knownIssue(res *result) string {
	return ""
}
