package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/yaml"
)

// format renders v as -o asks: JSON, YAML, or the text of table.
func (c *cli) format(v any, table func() string) (string, error) {
	switch c.opts.output {
	case "json":
		b, err := json.MarshalIndent(v, "", "  ")
		return string(b) + "\n", err
	case "yaml":
		b, err := yaml.Marshal(v)
		return string(b), err
	}
	return table(), nil
}

// ANSI colours, used only on a terminal.
const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// paint colours a phase by how it went: green done, red failed, yellow
// waiting on a person.
func paint(phase string, color bool) string {
	if !color {
		return phase
	}
	switch phase {
	case "Succeeded", "Initialized":
		return green + phase + reset
	case "Failed":
		return red + phase + reset
	case "Waiting", "WaitingPromotion":
		return yellow + phase + reset
	}
	return phase
}

// age renders how long ago t was, kubectl-style; "-" when t is unset.
func age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// renderRows renders `list` as a table; the namespace column only when the
// rows span namespaces, as kubectl does.
func renderRows(rows []row, allNamespaces, color bool, now time.Time) string {
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
	header := "NAME\tPHASE\tWEIGHT\tFAILED\tITERATIONS\tLAST TRANSITION\tREQUEST"
	if allNamespaces {
		header = "NAMESPACE\t" + header
	}
	fmt.Fprintln(w, header)
	for _, r := range rows {
		if allNamespaces {
			fmt.Fprintf(w, "%s\t", r.Namespace)
		}
		request := r.PendingRequest
		if request == "" {
			request = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d/%d\t%d\t%s\t%s\n", r.Name, paint(r.Phase, color), r.Weight,
			r.FailedChecks, r.Threshold, r.Iterations, age(r.LastTransition, now), request)
	}
	_ = w.Flush()
	return b.String()
}

// renderRelease renders `get` as sections: the status, the workloads, the
// route, the gates and the last events.
func renderRelease(r release, color bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Canary:      %s/%s\n", r.Namespace, r.Name)
	fmt.Fprintf(&b, "Phase:       %s\n", paint(r.Phase, color))
	fmt.Fprintf(&b, "Weight:      %d\n", r.Weight)
	fmt.Fprintf(&b, "Iterations:  %d\n", r.Iterations)
	fmt.Fprintf(&b, "Checks:      %d/%d failed\n", r.FailedChecks, r.Threshold)
	fmt.Fprintf(&b, "Revision:    %s (promoted %s)\n", dash(r.Revision), dash(r.PromotedRevision))
	if r.Run > 0 {
		fmt.Fprintf(&b, "Run:         %d (kubectl serin explain %s)\n", r.Run, r.Name)
	}
	if r.Paused {
		fmt.Fprintf(&b, "Paused:      %s (kubectl serin resume %s)\n", paint("yes", color), r.Name)
	}
	if r.PendingRequest != "" {
		fmt.Fprintf(&b, "Request:     %s pending\n", r.PendingRequest)
	} else if r.LastHandledRequest != "" {
		fmt.Fprintf(&b, "Request:     %s handled\n", r.LastHandledRequest)
	}

	b.WriteString("\nWorkloads:\n")
	w := tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "  ROLE\tDEPLOYMENT\tREADY\tIMAGE")
	for _, wl := range r.Workloads {
		if wl.Missing {
			fmt.Fprintf(w, "  %s\t%s\tnot found\t-\n", wl.Role, wl.Name)
			continue
		}
		fmt.Fprintf(w, "  %s\t%s\t%d/%d\t%s\n", wl.Role, wl.Name, wl.Ready, wl.Desired, strings.Join(wl.Images, ","))
	}
	_ = w.Flush()

	if rt := r.Route; rt != nil {
		fmt.Fprintf(&b, "\nHTTPRoute %s:\n", rt.Name)
		if rt.Missing {
			b.WriteString("  not found\n")
		}
		w = tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
		for _, be := range rt.Backends {
			fmt.Fprintf(w, "  backend\t%s\tweight %d\n", be.Name, be.Weight)
		}
		if !rt.Missing && len(rt.Parents) == 0 {
			fmt.Fprintln(w, "  parent\tnone has reported status")
		}
		for _, p := range rt.Parents {
			fmt.Fprintf(w, "  parent\t%s\tAccepted %s\tResolvedRefs %s\n", p.Name, p.Accepted, p.ResolvedRefs)
		}
		_ = w.Flush()
	}

	if len(r.Checks) > 0 {
		b.WriteString("\nChecks (latest of this run):\n")
		w = tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
		fmt.Fprintln(w, "  KIND\tNAME\tVALUE\tTHRESHOLD\tVERDICT\tAT")
		for _, ch := range r.Checks {
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\n", ch.Kind, ch.Name, shortValue(ch.Value), dash(ch.Threshold),
				paintVerdict(string(ch.Verdict), color), ch.EvaluatedAt.UTC().Format(time.RFC3339))
		}
		_ = w.Flush()
	}

	if len(r.Gates) > 0 {
		b.WriteString("\nGates:\n")
		for _, g := range r.Gates {
			state := "not waiting"
			if g.Waiting {
				state = paint("Waiting", color) + " (kubectl serin promote " + r.Name + ")"
			}
			fmt.Fprintf(&b, "  %s %s: %s\n", g.Type, g.Name, state)
		}
	}

	if len(r.Events) > 0 {
		b.WriteString("\nEvents:\n")
		w = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		for _, e := range r.Events {
			typ := e.Type
			if color && typ == "Warning" {
				typ = red + typ + reset
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), typ, e.Reason, e.Message)
		}
		_ = w.Flush()
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// paintVerdict colours a check's verdict: green passed, red anything else.
func paintVerdict(v string, color bool) string {
	switch {
	case !color:
		return v
	case v == "Pass":
		return green + v + reset
	}
	return red + v + reset
}
