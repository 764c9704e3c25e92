package peer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dartsync/dartsync/peer/decide"
)

func TestSyncedModeRules(t *testing.T) {
	for _, tt := range []struct {
		name     string
		existing os.FileMode // 0: no file there
		exec     bool
		umask    os.FileMode
		want     os.FileMode
	}{
		{"new file, umask 022", 0, false, 0o022, 0o644},
		{"new executable, umask 022", 0, true, 0o022, 0o755},
		{"new file, umask 077", 0, false, 0o077, 0o600},
		{"new executable, umask 027", 0, true, 0o027, 0o750},
		{"new file, umask 002", 0, false, 0o002, 0o664},
		{"update keeps 0600", 0o600, false, 0o022, 0o600},
		{"update keeps 0640 under umask 077", 0o640, false, 0o077, 0o640},
		{"update keeps 0744 executable", 0o744, true, 0o022, 0o744},
		{"becomes executable where readable", 0o600, true, 0o022, 0o700},
		{"becomes executable, 0644", 0o644, true, 0o077, 0o755},
		{"stops being executable", 0o750, false, 0o022, 0o640},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			if tt.existing != 0 {
				if err := os.WriteFile(p, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			if got := syncedMode(p, tt.exec, tt.umask); got != tt.want {
				t.Fatalf("syncedMode = %#o, want %#o", got, tt.want)
			}
		})
	}
	// a directory or a symlink in the way is not a file to keep the mode of
	dir := t.TempDir()
	if got := syncedMode(dir, false, 0o022); got != 0o644 {
		t.Fatalf("over a directory: %#o", got)
	}
}

// TestUpdateKeepsMode: two daemons over a real tracker. A file b made
// 0600 stays 0600 when a's newer version replaces it; made executable on a,
// it becomes 0700 on b (executable where readable), and 0600 again when a
// clears the bit.
func TestUpdateKeepsMode(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	pa, pb := filepath.Join(a.root, "secret.txt"), filepath.Join(b.root, "secret.txt")
	mode := func(p string) os.FileMode {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Mode().Perm()
	}
	v1 := []byte("version one\n")
	mustDo(t, os.WriteFile(pa, v1, 0o644))
	waitFor(t, "v1 on b", fileIs(pb, v1))
	mustDo(t, os.Chmod(pb, 0o600))
	// b's index takes the chmod in (its watcher may have skipped the event
	// if it came while v1 was being applied: ask for scans)
	fb := b.d.folders[0]
	waitFor(t, "b's scan after the chmod", func() bool {
		kick(fb.scanKick)
		ie, ok := fb.idx.Get("secret.txt")
		return ok && !decide.NeedsScan(ie, ok, decide.DiskOf(os.Lstat(pb)))
	})

	for _, step := range []struct {
		data []byte
		perm os.FileMode // on a
		want os.FileMode // on b
	}{
		{[]byte("version two, longer\n"), 0o644, 0o600},
		{[]byte("#!/bin/sh\necho three\n"), 0o755, 0o700},
		{[]byte("version four\n"), 0o644, 0o600},
	} {
		mustDo(t, os.WriteFile(pa, step.data, 0o644))
		mustDo(t, os.Chmod(pa, step.perm))
		waitFor(t, string(step.data)+" on b", func() bool { return fileIs(pb, step.data)() && mode(pb) == step.want })
	}
}
