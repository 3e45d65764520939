package loadtester

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Store persists the open gates.
type Store interface {
	// Load returns the open gates; an empty store has none.
	Load(ctx context.Context) ([]Gate, error)
	// Save replaces the stored state with these open gates.
	Save(ctx context.Context, open []Gate) error
}

// state is the persisted document, the same in a file and a ConfigMap.
type state struct {
	Open []Gate `json:"open"`
}

func encodeState(open []Gate) ([]byte, error) {
	if open == nil {
		open = []Gate{}
	}
	b, err := json.MarshalIndent(state{Open: open}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func decodeState(b []byte) ([]Gate, error) {
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decoding the gate state: %w", err)
	}
	return s.Open, nil
}

// FileStore keeps the gate state in a JSON file.
type FileStore struct {
	// Path of the file; its directory must exist.
	Path string
}

var _ Store = FileStore{}

// Load reads the file; a missing file is an empty state.
func (f FileStore) Load(context.Context) ([]Gate, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeState(b)
}

// Save writes the file atomically: a temporary file in the same directory,
// synced, then renamed over the old one, so a crash leaves the old state or
// the new one, never half of either.
func (f FileStore) Save(_ context.Context, open []Gate) error {
	b, err := encodeState(open)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), "."+filepath.Base(f.Path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.Path)
}
