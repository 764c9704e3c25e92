package chunkstore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/dartsync/dartsync/internal/kvstore"
)

func TestOpenNeverCreatesFolder(t *testing.T) {
	tests := []struct {
		name     string
		state    func(root string) string // state directory for a missing root
		wantErr  error
		wantRoot bool // root exists afterwards
	}{
		{"default state inside the folder", func(string) string { return "" }, fs.ErrNotExist, false},
		{"state inside the folder", func(root string) string { return filepath.Join(root, ".dartsync") }, fs.ErrNotExist, false},
		{"state outside the folder", func(root string) string { return filepath.Join(filepath.Dir(root), "state") }, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "unmounted")
			s, err := Open(root, tt.state(root), nil)
			if err == nil {
				s.Close()
			}
			if (err != nil) != (tt.wantErr != nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("Open = %v, want %v", err, tt.wantErr)
			}
			if _, err := os.Stat(root); (err == nil) != tt.wantRoot {
				t.Fatalf("folder exists after Open: %v, want %v", err == nil, tt.wantRoot)
			}
		})
	}
}

// TestOpenSharedCache: two stores (two folders of a peer) opened with one
// block cache work side by side; the second Open of a store is ErrLocked.
func TestOpenSharedCache(t *testing.T) {
	cache := kvstore.NewCache(1 << 20)
	defer cache.Unref()
	var stores []*Store
	for i := range 2 {
		root := t.TempDir()
		data := randomData(uint64(i), 100)
		writeFile(t, root, "f", data)
		s, err := OpenOptions(root, "", Options{Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		m := buildManifest("f", data, testPieceSize)
		if err := s.AddFile(&m); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReadPiece(m.Pieces[0].Hash, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenOptions(root, "", Options{Cache: cache}); !errors.Is(err, ErrLocked) {
			t.Fatalf("second Open = %v, want ErrLocked", err)
		}
		stores = append(stores, s)
	}
	for _, s := range stores {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
