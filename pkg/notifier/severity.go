package notifier

import flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"

// accepts reports whether an analysis.alerts entry of severity floor
// receives an alert of severity sev: info (or empty) receives everything,
// warn receives warn and error, error receives error only.
func accepts(floor, sev flaggerv1.AlertSeverity) bool {
	return rank(sev) >= rank(floor)
}

func rank(s flaggerv1.AlertSeverity) int {
	switch s {
	case flaggerv1.SeverityError:
		return 2
	case flaggerv1.SeverityWarn:
		return 1
	default:
		return 0
	}
}
