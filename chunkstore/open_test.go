package chunkstore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
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
