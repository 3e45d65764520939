package tutorial

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/test/lib/splitmeter"
)

// PrintCanaries prints what `kubectl get canaries -A` shows.
func (e *Env) PrintCanaries(ctx context.Context) {
	list, err := e.Flagger.FlaggerV1beta1().Canaries("").List(ctx, metav1.ListOptions{})
	if err != nil {
		e.Printf("listing canaries: %v", err)
		return
	}
	e.Printf("$ kubectl get canaries -A")
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 8, 3, ' ', 0)
	fmt.Fprintln(w, "NAMESPACE\tNAME\tSTATUS\tWEIGHT\tLASTTRANSITIONTIME")
	for _, cd := range list.Items {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", cd.Namespace, cd.Name, cd.Status.Phase, cd.Status.CanaryWeight,
			cd.Status.LastTransitionTime.UTC().Format(time.RFC3339))
	}
	w.Flush()
	e.Printf("%s", strings.TrimRight(b.String(), "\n"))
}

// PrintWindows prints the split observed at the gateway next to the intended weight.
func (e *Env) PrintWindows(windows []splitmeter.Window) {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "intended canary weight\tobserved canary share\tcanary answers\tprimary answers\tfailed requests\t")
	for _, win := range windows {
		fmt.Fprintf(w, "%d%%\t%.1f%%\t%d\t%d\t%d%s\t\n", win.Weight, win.Share(), win.Canary, win.Primary, win.Failed, codes(win.Codes))
	}
	for _, win := range windows {
		if win.Failed > 0 {
			fmt.Fprintf(w, "%s: failed requests sent from %s to %s\n", win.Label,
				win.FirstFailed.Format("15:04:05.000"), win.LastFailed.Format("15:04:05.000"))
		}
	}
	w.Flush()
	e.Printf("%s", strings.TrimRight(b.String(), "\n"))
}

// codes formats failures by status code, e.g. " (500: 3, 503: 1)"; 0 means no answer.
func codes(c map[int]int) string {
	if len(c) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(c))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d: %d", k, c[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
