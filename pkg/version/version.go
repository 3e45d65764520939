// Package version holds the build version of Serin's binaries, stamped by
// the Makefile with -ldflags -X.
package version

// Version is the release this binary was built from; "dev" when unstamped.
var Version = "dev"
