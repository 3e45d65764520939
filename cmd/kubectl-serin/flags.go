package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
)

// errHelp is returned by parse when -h was asked: the usage is printed and
// the command exits 0.
var errHelp = flag.ErrHelp

// options are the flags of a command. The standard library's flag package
// accepts -name and --name alike, so kubectl's long and short spellings are
// two flags bound to one variable.
type options struct {
	fs         *flag.FlagSet
	name       string
	args       []string
	nargs      int
	kubeconfig string
	context    string
	namespace  string
	output     string

	allNamespaces bool
	watch         bool
	full          bool
	wait          bool
	timeout       time.Duration
	interval      time.Duration
	revision      string
	run           int
	sets          []string
	metricsURL    string
}

func newOptions(name string, stderr io.Writer) *options {
	o := &options{name: name, fs: flag.NewFlagSet("kubectl serin "+name, flag.ContinueOnError), interval: 2 * time.Second}
	o.fs.SetOutput(stderr)
	o.fs.StringVar(&o.kubeconfig, "kubeconfig", "", "path to the kubeconfig file")
	o.fs.StringVar(&o.context, "context", "", "the kubeconfig context to use")
	o.fs.StringVar(&o.namespace, "namespace", "", "the namespace (default: the context's)")
	o.fs.StringVar(&o.namespace, "n", "", "short for --namespace")
	return o
}

// outputFlag adds -o/--output, for the commands whose result is an object.
func (o *options) outputFlag() {
	o.fs.StringVar(&o.output, "output", "", "output format: json or yaml (default: a table)")
	o.fs.StringVar(&o.output, "o", "", "short for --output")
}

// parse parses flags and positional arguments in any order, as kubectl
// does (`get podinfo -n test` and `get -n test podinfo`); the flag package
// alone stops at the first argument.
func (o *options) parse(args []string) error {
	for {
		if err := o.fs.Parse(args); err != nil {
			return err
		}
		args = o.fs.Args()
		if len(args) == 0 {
			break
		}
		o.args = append(o.args, args[0])
		args = args[1:]
	}
	if len(o.args) != o.nargs {
		if o.nargs == 0 {
			return fmt.Errorf("takes no arguments, got %q", o.args)
		}
		return errors.New("needs the canary's NAME")
	}
	switch o.output {
	case "", "json", "yaml":
	default:
		return fmt.Errorf("unknown output format %q: use json or yaml", o.output)
	}
	return nil
}

// cli is what a command runs with: the clients, the namespace and where to
// write.
type cli struct {
	opts      *options
	kube      kubernetes.Interface
	serin     clientset.Interface
	gateway   gatewayclient.Interface
	namespace string
	out       io.Writer
	errOut    io.Writer
	color     bool
}

// connect loads the kubeconfig the way kubectl does (--kubeconfig, then
// $KUBECONFIG, then ~/.kube/config) with --context and --namespace as
// overrides, and builds the clients.
func (o *options) connect(stdout, stderr io.Writer) (*cli, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.context}
	overrides.Context.Namespace = o.namespace
	config := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	namespace, _, err := config.Namespace()
	if err != nil {
		return nil, err
	}
	rest, err := config.ClientConfig()
	if err != nil {
		return nil, err
	}
	rest.UserAgent = "kubectl-serin"
	// Every call is a short read or patch: a hung API server must not hold a
	// CI job past the command's own --timeout by much.
	if rest.Timeout == 0 {
		rest.Timeout = 30 * time.Second
	}
	c := &cli{opts: o, namespace: namespace, out: stdout, errOut: stderr, color: colorful(stdout)}
	if c.kube, err = kubernetes.NewForConfig(rest); err != nil {
		return nil, err
	}
	if c.serin, err = clientset.NewForConfig(rest); err != nil {
		return nil, err
	}
	if c.gateway, err = gatewayclient.NewForConfig(rest); err != nil {
		return nil, err
	}
	return c, nil
}

// colorful reports whether w is a terminal that wants colour: a character
// device, and NO_COLOR (no-color.org) unset.
func colorful(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
