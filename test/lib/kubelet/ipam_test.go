package kubelet

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIPAM(t *testing.T) {
	a, err := newIPAM("10.244.1.0/29")
	require.NoError(t, err)
	got := func(owner string) string {
		ip, err := a.allocate(owner)
		require.NoError(t, err)
		return ip
	}
	assert.Equal(t, "10.244.1.2", got("a"))
	assert.Equal(t, "10.244.1.3", got("b"))
	assert.Equal(t, "10.244.1.2", got("a"), "an owner keeps its address")
	a.release("a")
	assert.Equal(t, "10.244.1.2", got("c"), "a released address is reused")
	assert.Equal(t, "10.244.1.4", got("d"))
	assert.Equal(t, "10.244.1.5", got("e"))
	assert.Equal(t, "10.244.1.6", got("f"))
	_, err = a.allocate("g")
	assert.ErrorContains(t, err, "full", "the broadcast address is never handed out")

	_, err = newIPAM("fd00::/64")
	assert.Error(t, err)
}
