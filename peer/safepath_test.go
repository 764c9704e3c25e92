package peer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

var errBadPath = manifest.ErrBadPath

func TestTargetRefusesSymlinksAndBadPaths(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "real", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel     string
		create  parents
		wantErr error // nil: success
	}{
		{"real/dir/x", existingParents, nil},
		{"new/parents/x", createParents, nil},
		{"link/x", createParents, ErrUnsafePath},
		{"link/deeper/x", createParents, ErrUnsafePath},
		{"file/x", createParents, ErrUnsafePath},
		{"../escape", createParents, errBadPath},
		{"/abs", createParents, errBadPath},
		{".dartsync/index.db", createParents, errBadPath},
		{"missing/x", existingParents, os.ErrNotExist},
	}
	for _, tt := range tests {
		abs, _, err := target(root, tt.rel, tt.create)
		switch {
		case tt.wantErr == nil && err != nil:
			t.Errorf("target(%q) = %v, want success", tt.rel, err)
		case tt.wantErr == nil && abs != filepath.Join(root, filepath.FromSlash(tt.rel)):
			t.Errorf("target(%q) = %q", tt.rel, abs)
		case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
			t.Errorf("target(%q) = %v, want %v", tt.rel, err, tt.wantErr)
		}
	}
	if fi, err := os.Lstat(filepath.Join(root, "new", "parents")); err != nil || !fi.IsDir() {
		t.Errorf("parents not created: %v", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("something was created outside the folder: %v", ents)
	}
}
