package kubelet

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTailLines(t *testing.T) {
	log := []byte("a\nb\nc\n")
	assert.Equal(t, "c\n", string(tailLines(log, 1)))
	assert.Equal(t, "b\nc\n", string(tailLines(log, 2)))
	assert.Equal(t, "a\nb\nc\n", string(tailLines(log, 3)))
	assert.Equal(t, "a\nb\nc\n", string(tailLines(log, 10)))
	assert.Empty(t, tailLines(log, 0))
	assert.Equal(t, "a\nb\nc\n", string(tailLines(log, -1)))
	assert.Equal(t, "c", string(tailLines([]byte("a\nb\nc"), 1)), "a last line without newline")
}
