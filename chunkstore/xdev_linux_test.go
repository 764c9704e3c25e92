//go:build linux

package chunkstore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// otherFS returns a new directory on another filesystem than dir, or skips.
func otherFS(t *testing.T, dir string) string {
	t.Helper()
	other, err := os.MkdirTemp("/dev/shm", "chunkstore-xdev-")
	if err != nil {
		t.Skipf("no second filesystem: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(other) })
	a, errA := os.Stat(dir)
	b, errB := os.Stat(other)
	sa, okA := a.Sys().(*syscall.Stat_t)
	sb, okB := b.Sys().(*syscall.Stat_t)
	if errA != nil || errB != nil || !okA || !okB || sa.Dev == sb.Dev {
		t.Skip("/dev/shm is on the same filesystem")
	}
	return other
}

// A commit across filesystems goes through root/.dartsync/tmp; when the
// folder is gone (unmounted), it fails instead of re-creating it.
func TestRenameOrCopyNeverCreatesFolder(t *testing.T) {
	state := t.TempDir()
	root := filepath.Join(otherFS(t, state), "folder")
	if err := os.MkdirAll(filepath.Join(root, ".dartsync"), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := Open(root, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	src := filepath.Join(state, "partial", "x.part")
	if err := os.WriteFile(src, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.renameOrCopy(src, filepath.Join(root, "a"), Replace); err != nil {
		t.Fatalf("commit across filesystems: %v", err)
	}
	if err := os.WriteFile(src, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if err := s.renameOrCopy(src, filepath.Join(root, "b"), Replace); err == nil {
		t.Fatal("commit into a missing folder succeeded")
	}
	if _, err := os.Stat(root); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("folder re-created by a commit: %v", err)
	}
}
