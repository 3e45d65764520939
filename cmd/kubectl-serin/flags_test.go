package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestParse parses kubectl-style command lines: flags before and after the
// name, long and short spellings.
func TestParse(t *testing.T) {
	tests := []struct {
		command string
		args    []string
		check   func(t *testing.T, o *options)
		err     string
	}{
		{command: "get", args: []string{"podinfo", "-n", "test", "-w", "--output", "yaml"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, []string{"podinfo"}, o.args)
			assert.Equal(t, "test", o.namespace)
			assert.True(t, o.watch)
			assert.Equal(t, "yaml", o.output)
		}},
		{command: "list", args: []string{"-A", "--context", "kind", "--kubeconfig=/tmp/k"}, check: func(t *testing.T, o *options) {
			assert.True(t, o.allNamespaces)
			assert.Equal(t, "kind", o.context)
			assert.Equal(t, "/tmp/k", o.kubeconfig)
		}},
		{command: "status", args: []string{"--namespace=test", "podinfo", "--timeout", "90s"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, 90*time.Second, o.timeout)
			assert.Equal(t, "test", o.namespace)
		}},
		{command: "status", args: []string{"podinfo"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, 10*time.Minute, o.timeout, "the default")
		}},
		{command: "promote", args: []string{"podinfo", "--full", "--wait=false"}, check: func(t *testing.T, o *options) {
			assert.True(t, o.full)
			assert.False(t, o.wait)
			assert.Equal(t, "promote-full", actionOf(o))
		}},
		{command: "abort", args: []string{"podinfo"}, check: func(t *testing.T, o *options) {
			assert.True(t, o.wait)
			assert.Equal(t, 30*time.Second, o.timeout)
			assert.Equal(t, "abort", actionOf(o))
		}},
		{command: "get", args: nil, err: "needs the canary's NAME"},
		{command: "get", args: []string{"a", "b"}, err: "needs the canary's NAME"},
		{command: "list", args: []string{"podinfo"}, err: "takes no arguments"},
		{command: "get", args: []string{"podinfo", "-o", "wide"}, err: `unknown output format "wide"`},
		{command: "abort", args: []string{"podinfo", "--full"}, err: "flag provided but not defined: -full"},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			o := newOptions(tt.command, &bytes.Buffer{})
			commands[tt.command].flags(o)
			err := o.parse(tt.args)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			assert.NoError(t, err)
			tt.check(t, o)
		})
	}
}

// TestRunUsage checks the exit codes of the command line itself.
func TestRunUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{nil, exitError},
		{[]string{"--help"}, exitOK},
		{[]string{"pause", "podinfo"}, exitError},
		{[]string{"get", "-h"}, exitOK},
		{[]string{"get"}, exitError},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, tt.code, run(t.Context(), tt.args, &stdout, &stderr), "%v: %s", tt.args, stderr.String())
	}
}
