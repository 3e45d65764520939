package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/serin-dev/serin/pkg/loadtester"
)

// options are the load tester's flags; the names are Flagger's where
// Flagger has them.
type options struct {
	port            int
	timeout         time.Duration
	namespaceRegexp string
	logLevel        string
	logEncoding     string
	stateFile       string
	stateConfigMap  string
	stateNamespace  string
	kubeconfig      string
	allowCmd        listFlag
	shutdownGrace   time.Duration
	version         bool
}

// defaultStateFile survives a restart of the process; mount an emptyDir on
// its directory for it to survive a restart of the container.
var defaultStateFile = filepath.Join(os.TempDir(), "serin-loadtester-gates.json")

func parseFlags(fs *flag.FlagSet, args []string) (*options, error) {
	o := &options{}
	fs.IntVar(&o.port, "port", 8080, "Port to listen on.")
	fs.DurationVar(&o.timeout, "timeout", loadtester.DefaultTimeout, "Longest a command may run before it is killed.")
	fs.StringVar(&o.namespaceRegexp, "namespace-regexp", "", "Only canaries whose namespace matches may use the load tester; others get 403. Empty allows all.")
	fs.StringVar(&o.logLevel, "log-level", "info", "Log level: debug, info, warning, error.")
	fs.StringVar(&o.logEncoding, "zap-encoding", "json", "Log format, json or console (Flagger's flag name).")
	fs.StringVar(&o.stateFile, "state-file", defaultStateFile, "JSON file that keeps the gate state across restarts; empty keeps it in memory only.")
	fs.StringVar(&o.stateConfigMap, "state-configmap", "", "ConfigMap that keeps the gate state (in-cluster); overrides -state-file. Needs get, create and update on ConfigMaps.")
	fs.StringVar(&o.stateNamespace, "state-namespace", "", "Namespace of -state-configmap; defaults to the pod's namespace.")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "Kubeconfig for -state-configmap when running out of the cluster.")
	fs.Var(&o.allowCmd, "allow-cmd", "Command prefix allowed to run (repeatable or comma-separated); * allows any command. Without it any command runs: see the package documentation.")
	fs.DurationVar(&o.shutdownGrace, "shutdown-grace", 25*time.Second, "On SIGTERM, how long running requests and commands may finish before they are killed.")
	fs.BoolVar(&o.version, "version", false, "Print the version and exit.")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return o, o.validate()
}

// validate rejects flag values that would otherwise fail later, or silently.
func (o *options) validate() error {
	if o.version {
		return nil
	}
	if o.port < 1 || o.port > 65535 {
		return fmt.Errorf("-port must be a TCP port, got %d", o.port)
	}
	if o.timeout <= 0 {
		return errors.New("-timeout must be positive")
	}
	if o.shutdownGrace < 0 {
		return errors.New("-shutdown-grace cannot be negative")
	}
	if _, err := o.namespaces(); err != nil {
		return err
	}
	if _, err := logrus.ParseLevel(o.logLevel); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	if o.logEncoding != "json" && o.logEncoding != "console" {
		return fmt.Errorf("-zap-encoding must be json or console, got %q", o.logEncoding)
	}
	return nil
}

// namespaces compiles -namespace-regexp; nil when it is empty.
func (o *options) namespaces() (*regexp.Regexp, error) {
	if o.namespaceRegexp == "" {
		return nil, nil
	}
	re, err := regexp.Compile(o.namespaceRegexp)
	if err != nil {
		return nil, fmt.Errorf("-namespace-regexp: %w", err)
	}
	return re, nil
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}
