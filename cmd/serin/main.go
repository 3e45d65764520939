// Command serin is the Serin operator.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/serin-dev/serin/pkg/version"
)

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	fmt.Fprintln(os.Stderr, "serin: the canary controller is not implemented yet (see README, Status)")
	os.Exit(1)
}
