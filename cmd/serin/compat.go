package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/klog/v2"
)

// compatFlag is a Flagger flag that Serin accepts, so that a Flagger
// Deployment's arguments start Serin unchanged, but that has no effect in
// Serin. Each one set on the command line is named in one warning at start.
type compatFlag struct {
	name   string
	value  string
	reason string
}

// flaggerOnly are the flags of Flagger 1.44's cmd/flagger that mean nothing
// for a Gateway API operator, with why. Flagger's other flags are Serin's
// own (flags.go), with the same names and meanings, or klog's, which Flagger
// registers too and which configure client-go's logs here as there.
var flaggerOnly = []struct {
	name, reason string
	register     func(fs *flag.FlagSet, name string)
}{
	{"control-loop-interval",
		"Serin picks up new canaries and interval changes from watch events at once; due steps are enqueued every -scheduler-tick",
		func(fs *flag.FlagSet, name string) {
			fs.Duration(name, 10*time.Second, "Accepted for compatibility with Flagger; no effect (see -scheduler-tick).")
		}},
	{"zap-replace-globals",
		"Serin logs with logrus and has no global zap logger",
		func(fs *flag.FlagSet, name string) {
			fs.Bool(name, false, "Accepted for compatibility with Flagger; no effect.")
		}},
	{"ingress-annotations-prefix",
		"it configures Flagger's NGINX ingress router; Serin routes with the Gateway API",
		func(fs *flag.FlagSet, name string) {
			fs.String(name, "nginx.ingress.kubernetes.io", "Accepted for compatibility with Flagger; no effect.")
		}},
	{"ingress-class",
		"it configures Flagger's Contour router; Serin routes with the Gateway API",
		func(fs *flag.FlagSet, name string) {
			fs.String(name, "", "Accepted for compatibility with Flagger; no effect.")
		}},
	{"kubeconfig-service-mesh",
		"Serin writes HTTPRoutes in the cluster of -kubeconfig, which this flag names too",
		func(fs *flag.FlagSet, name string) {
			fs.String(name, "", "Accepted for compatibility with Flagger when it names the cluster of -kubeconfig; another cluster is refused.")
		}},
}

// registerFlaggerOnly registers the flags of flaggerOnly and klog's flags
// on fs.
func registerFlaggerOnly(fs *flag.FlagSet) {
	for _, f := range flaggerOnly {
		f.register(fs, f.name)
	}
	klog.InitFlags(fs)
}

// setFlaggerOnly returns the flags of flaggerOnly set on the command line
// parsed by fs, in flag-name order.
func setFlaggerOnly(fs *flag.FlagSet) []compatFlag {
	var set []compatFlag
	fs.Visit(func(f *flag.Flag) {
		for _, c := range flaggerOnly {
			if c.name == f.Name {
				set = append(set, compatFlag{name: f.Name, value: f.Value.String(), reason: c.reason})
			}
		}
	})
	return set
}

// validateFlaggerOnly refuses a value that Serin cannot honour and would
// otherwise silently get wrong.
//
// Unlike Flagger, -kubeconfig-service-mesh may not name another cluster:
// Serin's HTTPRoutes, Services and Deployments live in one cluster, and
// writing routes where the Gateway does not read them would leave every
// release without traffic. Failing at start says so at once.
func validateFlaggerOnly(o *options) error {
	for _, f := range o.flaggerOnly {
		if f.name == "kubeconfig-service-mesh" && f.value != "" && f.value != o.kubeconfig {
			return fmt.Errorf("-kubeconfig-service-mesh %q: routing objects in another cluster than -kubeconfig's is not supported", f.value)
		}
	}
	return nil
}

// warnFlaggerOnly logs one warning for each flag of set.
func warnFlaggerOnly(log *logrus.Entry, set []compatFlag) {
	for _, f := range set {
		log.WithFields(logrus.Fields{"flag": "-" + f.name, "value": f.value, "reason": f.reason}).
			Warn("Flagger flag accepted but has no effect in Serin")
	}
}
