package servicenet

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// query builds a DNS query as a stub resolver sends it, with an EDNS0 record after the question.
func query(id uint16, name string, qtype uint16) []byte {
	msg := binary.BigEndian.AppendUint16(nil, id)
	msg = append(msg, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1) // RD, one question, one additional
	for _, l := range splitLabels(name) {
		msg = append(msg, byte(len(l)))
		msg = append(msg, l...)
	}
	msg = append(msg, 0)
	msg = binary.BigEndian.AppendUint16(msg, qtype)
	msg = binary.BigEndian.AppendUint16(msg, classIN)
	return append(msg, 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0) // OPT
}

func splitLabels(name string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			out = append(out, name[start:i])
			start = i + 1
		}
	}
	return out
}

func TestParseQueryAndAnswer(t *testing.T) {
	msg := query(0xbeef, "PodInfo-Canary.test.svc.cluster.local", typeA)
	q, err := parseQuery(msg)
	require.NoError(t, err)
	assert.Equal(t, "podinfo-canary.test.svc.cluster.local", q.name)
	assert.Equal(t, uint16(typeA), q.qtype)

	resp := answer(msg, q, rcodeOK, []net.IP{net.ParseIP("10.0.0.7")})
	assert.Equal(t, []byte{0xbe, 0xef}, resp[:2])
	flags := binary.BigEndian.Uint16(resp[2:])
	assert.Equal(t, uint16(flagQR|flagAA|flagRA|flagRD), flags)
	assert.Equal(t, uint16(1), binary.BigEndian.Uint16(resp[6:]), "one answer")
	assert.Equal(t, uint16(0), binary.BigEndian.Uint16(resp[10:]), "no additional records")
	assert.Equal(t, []byte{10, 0, 0, 7}, resp[len(resp)-4:])

	nx := answer(msg, q, rcodeName, nil)
	assert.Equal(t, uint16(rcodeName), binary.BigEndian.Uint16(nx[2:])&0xf)
}

func TestParseQueryRejectsGarbage(t *testing.T) {
	for _, msg := range [][]byte{nil, make([]byte, 12), query(1, "a.b", typeA)[:16]} {
		_, err := parseQuery(msg)
		assert.Error(t, err)
	}
}

func TestServiceName(t *testing.T) {
	for name, want := range map[string][2]string{
		"web.test":                   {"web", "test"},
		"web.test.svc":               {"web", "test"},
		"web.test.svc.cluster.local": {"web", "test"},
		"web":                        {},
		"a.b.c":                      {},
		"proxy.golang.org":           {},
	} {
		svc, ns, ok := serviceName(name)
		assert.Equal(t, want[0] != "", ok, name)
		assert.Equal(t, want, [2]string{svc, ns}, name)
	}
}
