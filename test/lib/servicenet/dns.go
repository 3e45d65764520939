package servicenet

import (
	"encoding/binary"
	"errors"
	"net"
	"strings"
)

// DNS wire constants (RFC 1035).
const (
	typeA     = 1
	typeAAAA  = 28
	classIN   = 1
	rcodeOK   = 0
	rcodeFail = 2 // SERVFAIL
	rcodeName = 3 // NXDOMAIN
	flagQR    = 0x8000
	flagAA    = 0x0400
	flagRD    = 0x0100
	flagRA    = 0x0080
	headerLen = 12
	answerTTL = 5
)

var errMalformed = errors.New("malformed DNS query")

// question is the first question of a query.
type question struct {
	name  string // lower case, without the trailing dot
	qtype uint16
	end   int // offset just after the question in the query
}

// parseQuery reads the header and first question of a query; other sections are ignored.
func parseQuery(msg []byte) (question, error) {
	if len(msg) < headerLen || binary.BigEndian.Uint16(msg[4:]) == 0 {
		return question{}, errMalformed
	}
	var labels []string
	off := headerLen
	for {
		if off >= len(msg) {
			return question{}, errMalformed
		}
		n := int(msg[off])
		off++
		if n == 0 {
			break
		}
		// Queries carry no compression pointers in the question.
		if n > 63 || off+n > len(msg) {
			return question{}, errMalformed
		}
		labels = append(labels, strings.ToLower(string(msg[off:off+n])))
		off += n
	}
	if off+4 > len(msg) {
		return question{}, errMalformed
	}
	return question{
		name:  strings.Join(labels, "."),
		qtype: binary.BigEndian.Uint16(msg[off:]),
		end:   off + 4,
	}, nil
}

// answer builds the response to query: the question echoed and one A record per address.
func answer(query []byte, q question, rcode int, addrs []net.IP) []byte {
	out := make([]byte, 0, q.end+16*len(addrs))
	out = append(out, query[:2]...) // id
	flags := uint16(flagQR|flagAA|flagRA) | binary.BigEndian.Uint16(query[2:])&(flagRD|0x7800) | uint16(rcode)
	out = binary.BigEndian.AppendUint16(out, flags)
	out = binary.BigEndian.AppendUint16(out, 1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(addrs)))
	out = binary.BigEndian.AppendUint16(out, 0)
	out = binary.BigEndian.AppendUint16(out, 0)
	out = append(out, query[headerLen:q.end]...)
	for _, ip := range addrs {
		out = append(out, 0xc0, headerLen) // a pointer to the question's name
		out = binary.BigEndian.AppendUint16(out, typeA)
		out = binary.BigEndian.AppendUint16(out, classIN)
		out = binary.BigEndian.AppendUint32(out, answerTTL)
		out = binary.BigEndian.AppendUint16(out, 4)
		out = append(out, ip.To4()...)
	}
	return out
}

// serviceName splits a cluster name into Service and namespace: "web.test",
// "web.test.svc" and "web.test.svc.cluster.local" all name Service web in namespace test.
func serviceName(name string) (svc, ns string, ok bool) {
	name = strings.TrimSuffix(name, ".cluster.local")
	name = strings.TrimSuffix(name, ".svc")
	svc, ns, ok = strings.Cut(name, ".")
	if !ok || svc == "" || ns == "" || strings.Contains(ns, ".") {
		return "", "", false
	}
	return svc, ns, true
}
