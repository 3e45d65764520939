package egress

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRejectsBadEntries(t *testing.T) {
	for _, e := range []string{
		"*", "*.", "a.*.com", "hooks.slack.com:0", "hooks.slack.com:http", "10.0.0.0/33",
		"10.0.0.0/8:443", "http://hooks.slack.com", "hooks..slack.com", "[::1]:99999",
	} {
		t.Run(e, func(t *testing.T) {
			_, err := Parse([]string{e})
			assert.ErrorContains(t, err, Flag+` "`+e+`"`)
		})
	}
}

func TestParseEmptyAllowsAll(t *testing.T) {
	p, err := Parse([]string{"", "  "})
	require.NoError(t, err)
	assert.Nil(t, p)
	assert.True(t, p.AllowsName("anything", 1))
	assert.True(t, p.AllowsIP(netip.MustParseAddr("169.254.169.254"), 80))
}

func TestAllowsName(t *testing.T) {
	p, err := Parse([]string{"hooks.slack.com", "flagger-loadtester.test:80", "*.svc.cluster.local", "*.example.com:443", "Upper.Case."})
	require.NoError(t, err)
	tests := []struct {
		host string
		port int
		want bool
	}{
		{"hooks.slack.com", 443, true},
		{"HOOKS.slack.com.", 80, true},
		{"evil-hooks.slack.com", 443, false},
		{"hooks.slack.com.evil.io", 443, false},
		{"flagger-loadtester.test", 80, true},
		{"flagger-loadtester.test", 8080, false},
		{"a.test.svc.cluster.local", 9898, true},
		{"svc.cluster.local", 80, false},
		{"x.example.com", 443, true},
		{"x.example.com", 80, false},
		{"upper.case", 1, true},
		{"10.0.0.1", 80, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, p.AllowsName(tt.host, tt.port), "%s:%d", tt.host, tt.port)
	}
}

func TestAllowsIP(t *testing.T) {
	p, err := Parse([]string{"10.96.0.0/12", "127.0.0.1:8080", "[::1]:9090", "fd00::/8", "192.168.1.10", "::ffff:172.16.0.0/108"})
	require.NoError(t, err)
	tests := []struct {
		ip   string
		port int
		want bool
	}{
		{"10.96.0.10", 53, true},
		{"10.112.0.1", 53, false},
		{"127.0.0.1", 8080, true},
		{"127.0.0.1", 8081, false},
		{"::ffff:127.0.0.1", 8080, true}, // an IPv4-mapped address is its IPv4 address
		{"::ffff:10.0.0.1", 80, false},
		{"::1", 9090, true},
		{"::1", 80, false},
		{"fd12::1", 443, true},
		{"192.168.1.10", 1, true},
		{"169.254.169.254", 80, false},
		{"172.16.5.5", 80, true}, // an IPv4-mapped block is its IPv4 block
		{"172.32.0.1", 80, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, p.AllowsIP(netip.MustParseAddr(tt.ip), tt.port), "%s:%d", tt.ip, tt.port)
	}
	assert.Equal(t, "10.96.0.0/12,127.0.0.1:8080,[::1]:9090,fd00::/8,192.168.1.10,::ffff:172.16.0.0/108", p.String())
}

func TestDeniedErrorNamesTheFlag(t *testing.T) {
	err := &DeniedError{Destination: "10.0.0.1:80"}
	assert.EqualError(t, err, "destination 10.0.0.1:80 is not allowed by -webhook-allowed-hosts")
	err.Detail = "it resolves to [10.0.0.1]"
	assert.EqualError(t, err, "destination 10.0.0.1:80 is not allowed by -webhook-allowed-hosts (it resolves to [10.0.0.1])")
}
