package egress

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzPolicy parses arbitrary flag values and checks arbitrary
// destinations: nothing panics, a parsed policy prints as a value that
// parses to the same policy, and an IPv4 address and its IPv4-mapped IPv6
// form are always judged alike (so that [::ffff:10.0.0.1] cannot slip past
// a list that refuses 10.0.0.1).
func FuzzPolicy(f *testing.F) {
	f.Add("hooks.slack.com,*.svc.cluster.local:80,10.0.0.0/8,[::1]:9090", "a.svc.cluster.local", uint16(80), []byte{10, 1, 2, 3})
	f.Add("127.0.0.1:8080, ,fd00::/8", "localhost", uint16(8080), []byte{127, 0, 0, 1})
	f.Add("*", "x", uint16(0), []byte{})
	f.Fuzz(func(t *testing.T, value, host string, port uint16, ip []byte) {
		p, err := Parse(strings.Split(value, ","))
		if err != nil {
			return
		}
		again, err := Parse(strings.Split(p.String(), ","))
		require.NoError(t, err, "%q printed as %q", value, p.String())
		require.Equal(t, p.String(), again.String())
		p.AllowsName(host, int(port))
		p.ListsURL("http://" + host + "/")
		if len(ip) >= 4 {
			v4 := netip.AddrFrom4([4]byte(ip[:4]))
			mapped := netip.AddrFrom16(v4.As16())
			require.Equal(t, p.AllowsIP(v4, int(port)), p.AllowsIP(mapped, int(port)), "%s and %s", v4, mapped)
		}
	})
}
