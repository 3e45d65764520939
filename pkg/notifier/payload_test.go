package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

var update = flag.Bool("update", false, "rewrite the golden payloads in testdata/")

// TestPayloadsMatchGolden posts the new-revision alert through each type to
// a receiver and compares the body with testdata/<type>.json.
func TestPayloadsMatchGolden(t *testing.T) {
	for _, typ := range Types {
		t.Run(typ, func(t *testing.T) {
			rcv := newReceiver(t, http.StatusOK)
			n, err := New(flaggerv1.AlertProviderSpec{Type: typ}, rcv.URL+"/hook", "", testConfig())
			require.NoError(t, err)

			require.NoError(t, n.Post(context.Background(), newRevisionMessage()))

			reqs := rcv.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, "application/json", reqs[0].header.Get("Content-Type"))
			assert.Empty(t, reqs[0].header.Get("Authorization"))
			golden := filepath.Join("testdata", typ+".json")
			if *update {
				var v any
				require.NoError(t, json.Unmarshal([]byte(reqs[0].body), &v))
				var out bytes.Buffer
				enc := json.NewEncoder(&out)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				require.NoError(t, enc.Encode(v))
				require.NoError(t, os.WriteFile(golden, out.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), reqs[0].body)
		})
	}
}

// TestErrorColors checks the colors of an error alert, the only thing
// severity changes in Flagger's payloads.
func TestErrorColors(t *testing.T) {
	cases := []struct {
		typ, path string
		info, err string
	}{
		{TypeSlack, "attachments.0.color", "good", "danger"},
		{TypeDiscord, "attachments.0.color", "good", "danger"},
		{TypeRocket, "attachments.0.color", "#0076D7", "#FF0000"},
		{TypeMSTeams, "themeColor", "0076D7", "FF0000"},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			rcv := newReceiver(t, http.StatusOK)
			n, err := New(flaggerv1.AlertProviderSpec{Type: tc.typ}, rcv.URL, "", testConfig())
			require.NoError(t, err)
			require.NoError(t, n.Post(context.Background(), newRevisionMessage()))
			require.NoError(t, n.Post(context.Background(), thresholdMessage()))

			reqs := rcv.requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, tc.info, lookup(t, reqs[0].body, tc.path))
			assert.Equal(t, tc.err, lookup(t, reqs[1].body, tc.path))
		})
	}
}

// TestEmptyFieldsAreEmptyLists checks that a message without fields sends
// [] rather than null, which some receivers reject.
func TestEmptyFieldsAreEmptyLists(t *testing.T) {
	cases := map[string]string{
		TypeSlack:   "attachments.0.fields",
		TypeMSTeams: "sections.0.facts",
		TypeGeneric: "fields",
	}
	for typ, path := range cases {
		t.Run(typ, func(t *testing.T) {
			rcv := newReceiver(t, http.StatusOK)
			n, err := New(flaggerv1.AlertProviderSpec{Type: typ}, rcv.URL, "", testConfig())
			require.NoError(t, err)
			require.NoError(t, n.Post(context.Background(), thresholdMessage()))
			assert.Equal(t, []any{}, lookup(t, rcv.requests()[0].body, path))
		})
	}
}

// lookup returns the value at a dotted path of a JSON document; numeric
// segments index arrays.
func lookup(t *testing.T, doc, path string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(doc), &v))
	for _, seg := range splitPath(path) {
		switch node := v.(type) {
		case map[string]any:
			v = node[seg]
		case []any:
			i := 0
			for _, c := range seg {
				i = i*10 + int(c-'0')
			}
			require.Less(t, i, len(node), "path %s", path)
			v = node[i]
		default:
			t.Fatalf("path %s: %q is not inside an object or array", path, seg)
		}
	}
	return v
}

func splitPath(path string) []string {
	var segs []string
	start := 0
	for i := 0; i <= len(path); i++ {
		if i == len(path) || path[i] == '.' {
			segs = append(segs, path[start:i])
			start = i + 1
		}
	}
	return segs
}
