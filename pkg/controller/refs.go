package controller

import (
	"errors"
	"fmt"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
	"github.com/serin-dev/serin/pkg/judge"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// crossNamespaceRefs returns an error naming every reference of cd to a
// MetricTemplate or an AlertProvider in another namespace; nil when there
// is none. With -no-cross-namespace-refs such a canary is refused before it
// runs, as Flagger does, so that a tenant cannot read another namespace's
// queries, credentials or alert channels through a Canary. An empty
// namespace is the canary's own.
func crossNamespaceRefs(cd *flaggerv1.Canary) error {
	an := cd.GetAnalysis()
	if an == nil {
		return nil
	}
	var errs []error
	for i, m := range an.Metrics {
		if m.TemplateRef != nil && isCrossNamespace(cd, m.TemplateRef.Namespace) {
			errs = append(errs, crossNamespaceError(fmt.Sprintf("spec.analysis.metrics[%d].templateRef", i),
				"MetricTemplate", m.TemplateRef.Namespace, m.TemplateRef.Name))
		}
	}
	for i, a := range an.Alerts {
		if isCrossNamespace(cd, a.ProviderRef.Namespace) {
			errs = append(errs, crossNamespaceError(fmt.Sprintf("spec.analysis.alerts[%d].providerRef", i),
				"AlertProvider", a.ProviderRef.Namespace, a.ProviderRef.Name))
		}
	}
	return errors.Join(errs...)
}

func isCrossNamespace(cd *flaggerv1.Canary, namespace string) bool {
	return namespace != "" && namespace != cd.Namespace
}

// crossNamespaceError is the message of a refused reference; field is the
// path of the reference in the Canary.
func crossNamespaceError(field, kind, namespace, name string) error {
	return fmt.Errorf("%s: %s %s/%s is in another namespace and cross-namespace references are blocked (-no-cross-namespace-refs)",
		field, kind, namespace, name)
}

// refusedRefs returns the references that -no-cross-namespace-refs refuses
// in cd; nil when the flag is off. A canary being deleted is not refused:
// its finalizer must go even if its spec is invalid.
func (c *Controller) refusedRefs(cd *flaggerv1.Canary) error {
	if cd.DeletionTimestamp != nil {
		return nil
	}
	// The judge's settings the CRD cannot check (the strategy it needs,
	// the ratios' syntax), each error naming its field.
	if err := judge.ValidateJudge(cd.GetAnalysis()); err != nil {
		return syncerr.Permanent(err)
	}
	if canary.BaselineEnabled(cd) && c.cfg.Plugins.Baselines == nil {
		return syncerr.Invalid("spec.analysis.judge.baseline", "this operator runs without baselines")
	}
	if !c.cfg.NoCrossNamespaceRefs {
		return nil
	}
	return syncerr.Permanent(crossNamespaceRefs(cd))
}
