// Command kubectl-serin is the kubectl plugin of Serin: `kubectl serin`
// shows releases (list, get, status), explains them from their history
// (explain, replay), and steers them by hand (promote, abort, retry,
// pause, resume) through the request annotations the operator
// acknowledges, so that no spec field is toggled and a GitOps tool has
// nothing to revert.
//
// It only reads and annotates: the operator does the work. Its exit codes
// are for scripts and CI pipelines; see exitOK and the codes below.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes, the same for every command so that a pipeline can tell a
// release that failed from a cluster it could not reach.
const (
	// exitOK: the release succeeded, or the request was acknowledged.
	exitOK = 0
	// exitFailed: the release failed, or the operator ignored the request.
	exitFailed = 1
	// exitTimeout: the wait ran out before an answer.
	exitTimeout = 2
	// exitError: bad usage, or the API server could not be asked.
	exitError = 3
)

const usage = `kubectl serin: see into Serin releases and steer them by hand.

Commands:
  list [-A]                      every canary: phase, weight, checks, pending request
  get NAME [-w]                  one release: workloads, route, gates, events
  status NAME [--timeout D]      wait for the release of the target's revision
                                 (exit 0 Succeeded, 1 Failed, 2 timeout, 3 error)
  promote NAME [--full]          open the waiting confirm gates once (--full: skip the
                                 rest of the analysis)
  abort NAME                     roll the current run back now
  retry NAME                     run the Failed revision again
  pause NAME / resume NAME       hold the release where it is / let it go on
  explain NAME [--run N]         the timeline of a run: each check's value, threshold,
                                 verdict, and why it promoted or rolled back
  replay NAME [--run N] [--set METRIC.max=V]
                                 ask a run's queries again at their recorded times and
                                 judge them again (exit 0 passes, 1 would roll back)

Flags of every command: -n, --namespace NS   --context NAME   --kubeconfig PATH
Of list, get, explain and replay: -o, --output json|yaml
Run 'kubectl serin COMMAND -h' for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand: its own flags are added to the common ones.
type command struct {
	flags func(*options)
	run   func(ctx context.Context, c *cli) int
}

var commands = map[string]command{
	"list":    {flags: listFlags, run: runList},
	"get":     {flags: getFlags, run: runGet},
	"status":  {flags: statusFlags, run: runStatus},
	"promote": {flags: promoteFlags, run: runRequest},
	"abort":   {flags: requestFlags, run: runRequest},
	"retry":   {flags: requestFlags, run: runRequest},
	"pause":   {flags: requestFlags, run: runRequest},
	"resume":  {flags: requestFlags, run: runRequest},
	"explain": {flags: explainFlags, run: runExplain},
	"replay":  {flags: replayFlags, run: runReplay},
}

// run parses args, builds the clients and runs the command; it returns the
// process's exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "kubectl serin: unknown command %q\n\n%s", args[0], usage)
		return exitError
	}
	opts := newOptions(args[0], stderr)
	cmd.flags(opts)
	if err := opts.parse(args[1:]); err != nil {
		if errors.Is(err, errHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "kubectl serin %s: %v\n", args[0], err)
		return exitError
	}
	c, err := opts.connect(stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kubectl serin %s: %v\n", args[0], err)
		return exitError
	}
	return cmd.run(ctx, c)
}
