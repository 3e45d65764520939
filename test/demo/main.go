// Command demo runs `make demo`: Flagger's Gateway API tutorial, end to end, on one machine,
// with real traffic through Traefik. See test/lib/stack for what runs, and hack/demo.sh for the
// entry point that builds everything first.
//
//	demo up   [-dir DIR] [-serin BIN] [-loadtester BIN]   start the world, run the tutorial, leave it up
//	demo down [-dir DIR]                                   stop it
//
// `up` starts the world (a detached process in its own network and mount namespace) and prints
// its output until the tutorial ends; Ctrl-C meanwhile stops everything. The world keeps
// running afterwards, so that the stack can be looked at, until `down`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/serin-dev/serin/test/lib/sandbox"
)

// options are the flags of every subcommand.
type options struct {
	dir, serin, loadtester string
}

func main() {
	sandbox.Init()
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	var o options
	fs.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "serin-demo"), "Directory of the world's logs, Pods and pid file.")
	fs.StringVar(&o.serin, "serin", "_output/bin/serin", "The serin binary (make build).")
	fs.StringVar(&o.loadtester, "loadtester", "_output/bin/loadtester", "The loadtester binary (make build).")
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "up":
		err = up(o)
	case "down":
		err = down(o)
	case "world":
		err = world(o) // in the world that up started
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: demo up|down [-dir DIR] [-serin BIN] [-loadtester BIN]")
	os.Exit(2)
}
