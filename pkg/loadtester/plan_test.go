package loadtester

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanCommand(t *testing.T) {
	tests := []struct {
		cmd      string
		wantType string
	}{
		{"hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/", typeHey},
		{`hey -z 1m -q 5 -c 2 -H 'Cookie: canary=always' http://podinfo.test:9898/`, typeHey},
		{"/usr/local/bin/hey -n 1 -c 1 http://x/", typeHey},
		{"hey -n 1 -c 1 http://x/ > /tmp/report", TypeCmd},
		{"hey -n 1 -c 1 http://x/ | tee /tmp/report", TypeCmd},
		{`hey -H "Authorization: Bearer $TOKEN" http://x/`, TypeCmd},
		{"hey -o csv http://x/", TypeCmd},
		{"echo hey", TypeCmd},
		{"heyo -n 1 http://x/", TypeCmd},
		{"curl -s http://podinfo-canary.test:9898/", TypeCmd},
		{"hey 'unterminated", TypeCmd},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			typ, run, err := planCommand(tt.cmd)
			require.NoError(t, err)
			assert.NotNil(t, run)
			assert.Equal(t, tt.wantType, typ)
		})
	}
}

func TestPlanCommandInvalidHey(t *testing.T) {
	_, _, err := planCommand("hey -n 1 -c 2 http://x/")
	assert.EqualError(t, err, "invalid hey command: hey: -n cannot be less than -c")
}
