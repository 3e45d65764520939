package metrics

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// addFixtures seeds a fuzz target with the recorded answers of a type.
func addFixtures(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(string(b))
	}
}

// FuzzFluxAnswer reads arbitrary annotated CSV: never a panic, and a value
// only with no error.
func FuzzFluxAnswer(f *testing.F) {
	addFixtures(f, "influxdb/*.csv")
	f.Add("#datatype,double\n,_value\n,")
	f.Add("\"unterminated")
	f.Fuzz(func(t *testing.T, answer string) {
		v, err := firstFluxValue(answer)
		if err != nil {
			require.Nil(t, v)
		}
	})
}

// FuzzSignalFlowStream reads arbitrary event streams: never a panic, and
// every point returned has a value.
func FuzzSignalFlowStream(f *testing.F) {
	addFixtures(f, "splunk/*.sse")
	f.Add("data: x")
	f.Add("event: data\ndata:\n\n")
	f.Fuzz(func(t *testing.T, stream string) {
		points, err := readSignalFlow(bufio.NewReader(strings.NewReader(stream)))
		if err != nil {
			require.Nil(t, points)
			require.False(t, errors.Is(err, ErrNoValues))
			return
		}
		for _, p := range points {
			require.NotNil(t, p.Value)
		}
	})
}
