package syncbuf

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
	}
	wg.Wait()
	assert.Len(t, b.String(), 4*len("line 0\n"))
	fmt.Fprintln(&b, "last")
	assert.Equal(t, "last", b.Tail(1))
	assert.Len(t, b.Tail(10), len(b.String())-1, "all of it, without the final newline")
}
