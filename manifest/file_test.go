package manifest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestBuildFile(t *testing.T) {
	root := t.TempDir()
	mtime := time.Unix(1700000000, 123456789)
	write := func(rel string, data []byte, mode fs.FileMode) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	data := pattern(2*MinPieceSize + 9)
	write("a/plain.txt", data, 0o644)
	write("a/tool.sh", data, 0o750)
	if err := os.Chtimes(filepath.Join(root, "a"), mtime, mtime); err != nil {
		t.Fatal(err)
	}

	m, err := BuildFile(context.Background(), root, "a/plain.txt", MinPieceSize)
	if err != nil {
		t.Fatal(err)
	}
	want := refManifest(data, MinPieceSize)
	want.Path, want.ModTime = "a/plain.txt", mtime.UnixNano()
	if !equalManifest(&m, &want) {
		t.Errorf("plain: %+v, want %+v", m, want)
	}
	if err := m.Validate(); err != nil {
		t.Error(err)
	}

	m, err = BuildFile(context.Background(), root, "a/tool.sh", MinPieceSize)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && !m.Exec {
		t.Error("a/tool.sh (0750): Exec false")
	}
	if m.ID != want.ID {
		t.Error("same content, different file ID")
	}

	d, err := BuildFile(context.Background(), root, "a", MinPieceSize)
	if err != nil {
		t.Fatal(err)
	}
	if wantDir := NewDir("a", mtime.UnixNano()); !equalManifest(&d, &wantDir) {
		t.Errorf("dir: %+v, want %+v", d, wantDir)
	}
}

func TestBuildFileErrors(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	symlinkErr := os.Symlink("f", filepath.Join(root, "link"))
	tests := []struct {
		name      string
		rel       string
		pieceSize int64
		wantErr   error
	}{
		{"missing", "nope", MinPieceSize, fs.ErrNotExist},
		{"bad path", "../f", MinPieceSize, ErrBadPath},
		{"state dir", ".dartsync/x", MinPieceSize, ErrBadPath},
		{"bad piece size", "f", 100, ErrPieceSize},
		{"symlink", "link", MinPieceSize, ErrNotRegular},
	}
	for _, tt := range tests {
		if tt.name == "symlink" && symlinkErr != nil {
			t.Logf("no symlinks here: %v", symlinkErr)
			continue
		}
		_, err := BuildFile(context.Background(), root, tt.rel, tt.pieceSize)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}
