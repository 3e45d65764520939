package crash

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// table collects the results of every run and renders the report that
// `make test-crash` prints.
type table struct {
	mu      sync.Mutex
	results []*result
	start   time.Time
}

func newTable() *table { return &table{start: time.Now()} }

func (t *table) add(r *result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.results = append(t.results, r)
}

// row is one scenario's line of the table.
type row struct {
	scenario                     string
	writes                       int
	runs, killPoints             int
	failBad, killBad, timeoutBad int
	wedged, unready, unanalysed  int
	weights, ending, missed      int
	baseline                     int
	wall                         time.Duration
}

// render returns the table and the list of violations.
func (t *table) render() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	rows := map[string]*row{}
	var order []string
	for _, name := range scenarioNames() {
		rows[name] = &row{scenario: name}
		order = append(order, name)
	}
	total := &row{scenario: "total"}
	sort.SliceStable(t.results, func(i, j int) bool {
		a, b := t.results[i], t.results[j]
		if a.scenario != b.scenario {
			return indexOf(order, a.scenario) < indexOf(order, b.scenario)
		}
		if a.k != b.k {
			return a.k < b.k
		}
		return a.mode < b.mode
	})
	var lines, missed []string
	for _, res := range t.results {
		if res.missed {
			missed = append(missed, fmt.Sprintf("%s k=%d %s", res.scenario, res.k, res.mode))
		}
		for _, rw := range []*row{rows[res.scenario], total} {
			rw.runs++
			rw.wall += res.wall
			if res.mode == faultless {
				rw.writes += len(res.writes)
			}
			if res.mode == kill {
				rw.killPoints++
			}
			if len(res.violations) > 0 {
				switch res.mode {
				case fail:
					rw.failBad++
				case kill:
					rw.killBad++
				case timeout:
					rw.timeoutBad++
				}
			}
			if res.wedged {
				rw.wedged++
			}
			if res.missed {
				rw.missed++
			}
			rw.unready += len(res.unready)
			rw.unanalysed += len(res.unanalysed)
			rw.baseline += len(res.baseline)
			for _, v := range res.violations {
				switch {
				case strings.HasPrefix(v, "route weights"):
					rw.weights++
				case strings.HasPrefix(v, "ends "), strings.HasPrefix(v, "the primary ends"), strings.HasPrefix(v, "the target was not"):
					rw.ending++
				}
			}
		}
		if len(res.violations) > 0 {
			lines = append(lines, res.describe())
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Interrupt at every write: %d releases in %s (writes counted: POST, PUT, PATCH, DELETE but Events and Leases)\n\n",
		total.runs, time.Since(t.start).Round(time.Second))
	fmt.Fprintf(&b, "| %-28s | %6s | %5s | %5s | %9s | %9s | %12s | %6s | %7s | %10s | %7s | %6s | %8s |\n",
		"scenario", "writes", "runs", "kills", "fail: bad", "kill: bad", "timeout: bad", "wedged", "unready", "unanalysed", "weights", "ending", "baseline")
	var sep []string
	for _, w := range []int{28, 6, 5, 5, 9, 9, 12, 6, 7, 10, 7, 6, 8} {
		sep = append(sep, strings.Repeat("-", w+2))
	}
	fmt.Fprintf(&b, "|%s|\n", strings.Join(sep, "|"))
	for _, name := range append(order, "total") {
		rw := rows[name]
		if name == "total" {
			rw = total
		}
		if rw.runs == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %-28s | %6d | %5d | %5d | %9d | %9d | %12d | %6d | %7d | %10d | %7d | %6d | %8d |\n",
			rw.scenario, rw.writes, rw.runs, rw.killPoints, rw.failBad, rw.killBad, rw.timeoutBad, rw.wedged, rw.unready, rw.unanalysed, rw.weights, rw.ending, rw.baseline)
	}
	if total.missed > 0 {
		fmt.Fprintf(&b, "\n%d runs ended before their write k (fewer writes than the fault-free run): %s.\n",
			total.missed, strings.Join(missed, ", "))
	}
	if len(lines) > 0 {
		fmt.Fprintf(&b, "\n%d releases broke an invariant:\n\n%s\n", len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// describe is a run's entry in the list of violations.
func (r *result) describe() string {
	var b strings.Builder
	if r.mode == faultless {
		fmt.Fprintf(&b, "- %s, fault-free run:\n", r.scenario)
	} else {
		fmt.Fprintf(&b, "- %s, k=%d (%s), %s:\n", r.scenario, r.k, r.write, r.mode)
	}
	for _, v := range r.violations {
		fmt.Fprintf(&b, "    %s\n", v)
	}
	fmt.Fprintf(&b, "    phases: %s\n", strings.Join(r.phases, " → "))
	fmt.Fprintf(&b, "    route:  %s\n", strings.Join(r.shapes, " → "))
	var imgs []string
	for _, img := range r.primary {
		imgs = append(imgs, short(img))
	}
	fmt.Fprintf(&b, "    primary: %s", strings.Join(imgs, " → "))
	return b.String()
}

func scenarioNames() []string {
	var names []string
	for _, s := range scenarios {
		names = append(names, s.name)
	}
	return names
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return len(list)
}
