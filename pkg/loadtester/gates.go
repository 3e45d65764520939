package loadtester

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
)

// GateKind tells a promotion gate from a rollback gate.
type GateKind string

const (
	// PromotionGate is checked by /gate/check: open means go ahead.
	PromotionGate GateKind = "gate"
	// RollbackGate is checked by /rollback/check: open means roll back.
	RollbackGate GateKind = "rollback"
)

// Gate names one gate of one canary.
//
// Unlike Flagger, which keys gates by the strings "<name>.<namespace>" and
// "rollback.<name>.<namespace>" (so a canary named "rollback.x" shares its
// promotion gate with the rollback gate of canary "x"), a Gate keeps its
// parts apart.
type Gate struct {
	// Kind is the kind of gate.
	Kind GateKind `json:"kind"`
	// Namespace of the canary.
	Namespace string `json:"namespace"`
	// Name of the canary.
	Name string `json:"name"`
}

// String names the gate for messages: "gate test/podinfo".
func (g Gate) String() string { return fmt.Sprintf("%s %s/%s", g.Kind, g.Namespace, g.Name) }

func compareGates(a, b Gate) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// Gates is the state of every gate. Gates start closed, so only the open
// ones are kept. Every change is saved to the Store before it takes effect:
// unlike Flagger, whose gates live in memory only, an opened gate survives a
// restart of the load tester.
type Gates struct {
	mu    sync.Mutex
	open  map[Gate]bool
	store Store
}

// NewGates loads the open gates from store. A nil store keeps the state in
// memory only, as Flagger does.
func NewGates(ctx context.Context, store Store) (*Gates, error) {
	g := &Gates{open: map[Gate]bool{}, store: store}
	if store == nil {
		return g, nil
	}
	open, err := store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading the gate state: %w", err)
	}
	for _, gate := range open {
		g.open[gate] = true
	}
	return g, nil
}

// IsOpen reports whether a gate is open.
func (g *Gates) IsOpen(gate Gate) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open[gate]
}

// Set opens or closes a gate. The new state is saved first and kept only
// if saving succeeded, so the memory never claims what the store lost.
// Saving happens under the lock: changes are rare and must be written in
// order.
func (g *Gates) Set(ctx context.Context, gate Gate, open bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open[gate] == open {
		return nil
	}
	if g.store != nil {
		next := g.snapshot()
		if open {
			next = append(next, gate)
			slices.SortFunc(next, compareGates)
		} else {
			next = slices.DeleteFunc(next, func(o Gate) bool { return o == gate })
		}
		if err := g.store.Save(ctx, next); err != nil {
			return fmt.Errorf("saving the gate state: %w", err)
		}
	}
	if open {
		g.open[gate] = true
	} else {
		delete(g.open, gate)
	}
	return nil
}

// Open returns the open gates, sorted.
func (g *Gates) Open() []Gate {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.snapshot()
}

func (g *Gates) snapshot() []Gate {
	out := make([]Gate, 0, len(g.open))
	for gate := range g.open {
		out = append(out, gate)
	}
	slices.SortFunc(out, compareGates)
	return out
}
