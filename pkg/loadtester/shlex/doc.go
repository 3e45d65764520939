// Package shlex splits a POSIX shell command line into words and operators
// without running a shell. The load tester uses it for three decisions that
// must not need a shell: whether a command is a plain `hey` invocation it can
// run in-process, which arguments to pass to kubectl and helm, and whether
// every command of a pipeline starts with an allowed prefix. It recognises
// quoting, escapes, comments and control and redirection operators, and
// flags parameter expansion and command substitution instead of performing
// them.
package shlex
