package main

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parse(args ...string) (*options, error) {
	fs := flag.NewFlagSet("loadtester", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return parseFlags(fs, args)
}

func TestParseFlagsDefaults(t *testing.T) {
	o, err := parse()
	require.NoError(t, err)
	assert.Equal(t, 8080, o.port)
	assert.Equal(t, time.Hour, o.timeout)
	assert.Equal(t, "info", o.logLevel)
	assert.Equal(t, "json", o.logEncoding)
	assert.Equal(t, defaultStateFile, o.stateFile)
	assert.Empty(t, o.stateConfigMap)
	assert.Empty(t, o.allowCmd)
	assert.Equal(t, 25*time.Second, o.shutdownGrace)
	re, err := o.namespaces()
	require.NoError(t, err)
	assert.Nil(t, re)
}

func TestParseFlags(t *testing.T) {
	o, err := parse("-port=9090", "-timeout=30s", "-namespace-regexp=^test$", "-log-level=debug",
		"-zap-encoding=console", "-allow-cmd=curl -s,grep", "-allow-cmd", "hey -z", "-allow-cmd=", "-state-file=")
	require.NoError(t, err)
	assert.Equal(t, 9090, o.port)
	assert.Equal(t, 30*time.Second, o.timeout)
	assert.Equal(t, listFlag{"curl -s", "grep", "hey -z"}, o.allowCmd)
	assert.Empty(t, o.stateFile)
	re, err := o.namespaces()
	require.NoError(t, err)
	assert.True(t, re.MatchString("test"))
	assert.False(t, re.MatchString("prod"))
}

func TestParseFlagsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-port=0"}, "-port must be a TCP port"},
		{[]string{"-timeout=0s"}, "-timeout must be positive"},
		{[]string{"-shutdown-grace=-1s"}, "-shutdown-grace cannot be negative"},
		{[]string{"-namespace-regexp=("}, "-namespace-regexp"},
		{[]string{"-log-level=loud"}, "-log-level"},
		{[]string{"-zap-encoding=xml"}, "-zap-encoding must be json or console"},
		{[]string{"-bogus"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		_, err := parse(tt.args...)
		assert.ErrorContains(t, err, tt.want, tt.args)
	}
}

func TestParseFlagsVersionSkipsValidation(t *testing.T) {
	o, err := parse("-version", "-port=0")
	require.NoError(t, err)
	assert.True(t, o.version)
}
