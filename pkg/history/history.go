package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Label marks a history ConfigMap. The operator's ConfigMap informer drops
// the data of labelled ConfigMaps, so that histories cost it no memory.
const Label = "serin.dev/history"

// Entry is one tick of a run.
type Entry struct {
	// Time is when the tick ran.
	Time time.Time `json:"time"`
	// Phase, Weight, Iterations and FailedChecks are the canary's status
	// after the tick.
	Phase        flaggerv1.CanaryPhase `json:"phase"`
	Weight       int                   `json:"weight"`
	Iterations   int                   `json:"iterations,omitempty"`
	FailedChecks int                   `json:"failedChecks,omitempty"`
	// Revision is the pod template hash under analysis.
	Revision string `json:"revision,omitempty"`
	// Checks are the checks the tick ran, in order.
	Checks []flaggerv1.CheckResult `json:"checks,omitempty"`
	// Events are the events the tick recorded, in order.
	Events []Event `json:"events,omitempty"`
	// Dropped, on the first entry of a run cut to its budget, counts the
	// entries removed before it.
	Dropped int `json:"dropped,omitempty"`
}

// Event is a Kubernetes event of a tick.
type Event struct {
	Type    string `json:"type"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
}

// Limits bound a history.
type Limits struct {
	// Runs is how many runs are kept, the current one included.
	Runs int
	// RunBytes is the largest size of one run's JSON lines.
	RunBytes int
}

// DefaultLimits keep 5 runs of up to 128 KiB: at most 640 KiB, under the
// API server's 1 MiB object limit with room for metadata. A tick of the
// tutorial (two metrics, one webhook, one event) takes about 1 KiB, so a
// run keeps its last 100-odd ticks.
var DefaultLimits = Limits{Runs: 5, RunBytes: 128 << 10}

// Key is the ConfigMap key of run n.
func Key(run int) string { return "run-" + strconv.Itoa(run) }

// runOf parses a key written by Key.
func runOf(key string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(key, "run-"))
	return n, err == nil && strings.HasPrefix(key, "run-") && n > 0
}

// Append returns data with e appended to run, the runs before the last
// l.Runs removed and run cut to l.RunBytes from its oldest entries. data is
// not changed. An entry larger than the budget by itself is kept with its
// checks' queries and messages cut.
func Append(data map[string]string, run int, e Entry, l Limits) (map[string]string, error) {
	line, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	if len(line)+1 > l.RunBytes {
		line, err = json.Marshal(shrink(e))
		if err != nil {
			return nil, err
		}
	}
	out := make(map[string]string, len(data)+1)
	var runs []int
	for k, v := range data {
		if n, ok := runOf(k); ok {
			runs = append(runs, n)
		}
		out[k] = v
	}
	current := out[Key(run)] + string(line) + "\n"
	out[Key(run)] = cut(current, l.RunBytes)
	runs = append(runs, run)
	slices.Sort(runs)
	runs = slices.Compact(runs)
	for len(runs) > l.Runs {
		delete(out, Key(runs[0]))
		runs = runs[1:]
	}
	return out, nil
}

// shrink cuts the long strings of an entry.
func shrink(e Entry) Entry {
	e.Checks = slices.Clone(e.Checks)
	for i := range e.Checks {
		e.Checks[i].Query = Truncate(e.Checks[i].Query, 512)
		e.Checks[i].Message = Truncate(e.Checks[i].Message, 256)
	}
	e.Events = slices.Clone(e.Events)
	for i := range e.Events {
		e.Events[i].Message = Truncate(e.Events[i].Message, 256)
	}
	return e
}

// cut removes the oldest lines of a run until it fits in budget bytes, and
// counts them in the first remaining entry.
func cut(lines string, budget int) string {
	if len(lines) <= budget {
		return lines
	}
	all := strings.SplitAfter(strings.TrimSuffix(lines, "\n"), "\n")
	dropped := 0
	if first, err := decode(all[0]); err == nil {
		dropped = first.Dropped
	}
	for len(all) > 1 {
		size := 0
		for _, l := range all {
			size += len(l)
		}
		if size+64 <= budget { // room for the count of dropped entries
			break
		}
		all, dropped = all[1:], dropped+1
	}
	first, err := decode(all[0])
	if err != nil {
		return strings.Join(all, "")
	}
	first.Dropped = dropped
	b, err := json.Marshal(first)
	if err != nil {
		return strings.Join(all, "")
	}
	all[0] = string(b) + "\n"
	out := strings.Join(all, "")
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

func decode(line string) (Entry, error) {
	var e Entry
	err := json.Unmarshal([]byte(strings.TrimSpace(line)), &e)
	return e, err
}

// Run is one run as read back.
type Run struct {
	Number  int
	Entries []Entry
}

// Parse reads the runs of a history ConfigMap's data, oldest first. A line
// that cannot be read is an error naming its run and line.
func Parse(data map[string]string) ([]Run, error) {
	var runs []Run
	for k, v := range data {
		n, ok := runOf(k)
		if !ok {
			continue
		}
		r := Run{Number: n}
		sc := bufio.NewScanner(bytes.NewBufferString(v))
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for line := 1; sc.Scan(); line++ {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			e, err := decode(sc.Text())
			if err != nil {
				return nil, fmt.Errorf("history %s line %d: %w", k, line, err)
			}
			r.Entries = append(r.Entries, e)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("history %s: %w", k, err)
		}
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(a, b Run) int { return a.Number - b.Number })
	return runs, nil
}

// Name is the history ConfigMap of a canary: "<canary>-history", cut and
// suffixed with a hash of the whole name when that exceeds the 253
// characters of an object name.
func Name(canary string) string {
	const suffix = "-history"
	name := canary + suffix
	if len(name) <= 253 {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(canary))
	return fmt.Sprintf("%s-%08x%s", canary[:253-len(suffix)-9], h.Sum32(), suffix)
}

// Truncate cuts s to at most n bytes at a rune boundary, marking the cut;
// the operator's records use it for long queries and answers too.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
