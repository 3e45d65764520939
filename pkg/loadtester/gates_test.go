package loadtester

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGateOpenCloseCheckPerCanary(t *testing.T) {
	f := newFixture(t)
	podinfo, other, elsewhere := canary(), canaryIn("test", "other"), canaryIn("prod", "podinfo")

	status, body := f.post(t, "/gate/check", podinfo)
	assert.Equal(t, http.StatusForbidden, status, "gates start closed")
	assert.Equal(t, "Forbidden", body)

	status, body = f.post(t, "/gate/open", map[string]string{"name": "podinfo", "namespace": "test"})
	assert.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, "gate test/podinfo opened", body)

	status, body = f.post(t, "/gate/check", podinfo)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Approved", body)
	for _, p := range []any{other, elsewhere} {
		status, _ = f.post(t, "/gate/check", p)
		assert.Equal(t, http.StatusForbidden, status, "other canaries keep their own gate")
	}
	status, _ = f.post(t, "/rollback/check", podinfo)
	assert.Equal(t, http.StatusForbidden, status, "the rollback gate is separate")

	status, body = f.post(t, "/gate/close", podinfo)
	assert.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, "gate test/podinfo closed", body)
	status, _ = f.post(t, "/gate/check", podinfo)
	assert.Equal(t, http.StatusForbidden, status)

	assert.Equal(t, 1.0, f.metricValue(t, "serin_loadtester_gate_checks_total", "kind", "gate", "result", "open"))
	assert.Equal(t, 4.0, f.metricValue(t, "serin_loadtester_gate_checks_total", "kind", "gate", "result", "closed"))
}

func TestRollbackGates(t *testing.T) {
	f := newFixture(t)
	podinfo := canary()

	status, body := f.post(t, "/rollback/check", podinfo)
	assert.Equal(t, http.StatusForbidden, status, "closed by default")
	assert.Equal(t, "Forbidden", body)

	status, _ = f.post(t, "/gate/open", podinfo)
	require.Equal(t, http.StatusAccepted, status)
	status, _ = f.post(t, "/rollback/check", podinfo)
	assert.Equal(t, http.StatusForbidden, status, "opening the promotion gate does not roll back")

	status, body = f.post(t, "/rollback/open", podinfo)
	assert.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, "rollback test/podinfo opened", body)
	status, body = f.post(t, "/rollback/check", podinfo)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Approved", body)
	status, _ = f.post(t, "/rollback/check", canaryIn("test", "other"))
	assert.Equal(t, http.StatusForbidden, status)

	status, _ = f.post(t, "/rollback/close", podinfo)
	assert.Equal(t, http.StatusAccepted, status)
	status, _ = f.post(t, "/rollback/check", podinfo)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Equal(t, 1.0, f.metricValue(t, "serin_loadtester_gate_checks_total", "kind", "rollback", "result", "open"))
}

// A gate key made of dotted strings would let canary "rollback.x" and the
// rollback gate of canary "x" collide; Gate keeps them apart.
func TestGatesDoNotCollide(t *testing.T) {
	f := newFixture(t)
	status, _ := f.post(t, "/rollback/open", canaryIn("test", "x"))
	require.Equal(t, http.StatusAccepted, status)
	status, _ = f.post(t, "/gate/check", canaryIn("test", "rollback.x"))
	assert.Equal(t, http.StatusForbidden, status)
}

func TestGatesPersistAcrossRestart(t *testing.T) {
	store := FileStore{Path: filepath.Join(t.TempDir(), "gates.json")}
	restart := func() *fixture {
		gates, err := NewGates(context.Background(), store)
		require.NoError(t, err)
		return newFixture(t, func(c *Config) { c.Gates = gates })
	}

	first := restart()
	for _, path := range []string{"/gate/open", "/rollback/open"} {
		status, _ := first.post(t, path, canary())
		require.Equal(t, http.StatusAccepted, status)
	}
	status, _ := first.post(t, "/gate/open", canaryIn("prod", "web"))
	require.Equal(t, http.StatusAccepted, status)
	status, _ = first.post(t, "/gate/close", canaryIn("prod", "web"))
	require.Equal(t, http.StatusAccepted, status)

	second := restart()
	status, _ = second.post(t, "/gate/check", canary())
	assert.Equal(t, http.StatusOK, status)
	status, _ = second.post(t, "/rollback/check", canary())
	assert.Equal(t, http.StatusOK, status)
	status, _ = second.post(t, "/gate/check", canaryIn("prod", "web"))
	assert.Equal(t, http.StatusForbidden, status, "a closed gate stays closed")

	b, err := os.ReadFile(store.Path)
	require.NoError(t, err)
	assert.JSONEq(t, `{"open":[
		{"kind":"gate","namespace":"test","name":"podinfo"},
		{"kind":"rollback","namespace":"test","name":"podinfo"}]}`, string(b))
}

// failingStore fails every save.
type failingStore struct{}

func (failingStore) Load(context.Context) ([]Gate, error) { return nil, nil }
func (failingStore) Save(context.Context, []Gate) error   { return errors.New("disk full") }

func TestGateNotChangedWhenSaveFails(t *testing.T) {
	gates, err := NewGates(context.Background(), failingStore{})
	require.NoError(t, err)
	f := newFixture(t, func(c *Config) { c.Gates = gates })

	status, body := f.post(t, "/gate/open", canary())
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Equal(t, "saving the gate state: disk full", body)
	status, _ = f.post(t, "/gate/check", canary())
	assert.Equal(t, http.StatusForbidden, status)
}

// loadFailingStore fails to load.
type loadFailingStore struct{ failingStore }

func (loadFailingStore) Load(context.Context) ([]Gate, error) { return nil, errors.New("no access") }

func TestNewGatesFailsWhenLoadFails(t *testing.T) {
	_, err := NewGates(context.Background(), loadFailingStore{})
	assert.EqualError(t, err, "loading the gate state: no access")
}

func TestGatesOpenIsSorted(t *testing.T) {
	g, err := NewGates(context.Background(), nil)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, g.Set(ctx, Gate{Kind: RollbackGate, Namespace: "a", Name: "x"}, true))
	require.NoError(t, g.Set(ctx, Gate{Kind: PromotionGate, Namespace: "b", Name: "x"}, true))
	require.NoError(t, g.Set(ctx, Gate{Kind: PromotionGate, Namespace: "a", Name: "y"}, true))
	require.NoError(t, g.Set(ctx, Gate{Kind: PromotionGate, Namespace: "a", Name: "y"}, true), "idempotent")
	assert.Equal(t, []Gate{
		{Kind: PromotionGate, Namespace: "a", Name: "y"},
		{Kind: PromotionGate, Namespace: "b", Name: "x"},
		{Kind: RollbackGate, Namespace: "a", Name: "x"},
	}, g.Open())
}
