package peer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/tracker"
)

// folderTree maps the folder-relative paths of root (state excluded) to
// "dir" or the hash of the file's content.
func folderTree(root string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
			return nil
		case rel == ".dartsync":
			return filepath.SkipDir
		case d.IsDir():
			out[rel] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = fileSum(b)
		return nil
	})
	return out, err
}

func fileSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6]) + " " + string(b[:min(len(b), 24)])
}

// expectTree is the folderTree of a folder holding files (path -> content) and
// their parent directories.
func expectTree(files map[string]string) map[string]string {
	out := map[string]string{}
	for p, c := range files {
		out[p] = fileSum([]byte(c))
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			out[d] = "dir"
		}
	}
	return out
}

// treeDiff explains how got differs from want ("" if equal).
func treeDiff(got, want map[string]string) string {
	var lines []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			lines = append(lines, "missing "+p)
		} else if g != w {
			lines = append(lines, fmt.Sprintf("%s: %q, want %q", p, g, w))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			lines = append(lines, "extra "+p)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}

func waitTree(t *testing.T, what string, root string, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := folderTree(root)
		last := treeDiff(got, want)
		if err != nil {
			last = err.Error()
		}
		if last == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s: %s", what, root, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// copyDir copies the regular files of src into dst (created).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// write writes data to rel under root with an mtime d after a fixed base
// (so the versions of the test have distinct, ordered times).
func write(t *testing.T, root, rel, data string, d time.Duration) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(data), 0o644))
	tm := time.Now().Add(-time.Hour).Add(d)
	must(t, os.Chtimes(p, tm, tm))
}

// settledCounters returns p's counters once they have stopped moving: an
// apply counts a moment after its file is in place, so a tree that already
// matches may still have a count to come.
func settledCounters(t *testing.T, p *testPeer) [3]int64 {
	t.Helper()
	prev := counters(p)
	for range 100 {
		time.Sleep(200 * time.Millisecond)
		c := counters(p)
		if c == prev && p.d.Stats().PendingWants == 0 {
			return c
		}
		prev = c
	}
	t.Fatalf("%s: counters still moving: %v", p.root, prev)
	return prev
}

// counters are the stats that move when a peer changes a file.
func counters(p *testPeer) [3]int64 {
	s := p.d.Stats()
	return [3]int64{s.FilesApplied, s.FilesDeleted, s.Conflicts}
}

// TestTrackerStateGoesBack: the acceptance case of a tracker restored from
// an older backup, or started afresh after losing its state, with either
// peer reconnecting first. After the tracker comes back, no peer changes
// any file; a peer that joins afterwards gets exactly the newest state; a
// change made afterwards reaches everyone.
func TestTrackerStateGoesBack(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fresh  bool // the state is lost, not restored: a new tracker identity, peers re-join with its token
		bFirst bool // b reconnects first
	}{
		{"restored, a first", false, false},
		{"restored, b first", false, true},
		{"lost, a first", true, false},
		{"lost, b first", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t)
			a := n.startLogged(t.TempDir(), testLog().With("peer", "a"))
			b := n.startLogged(t.TempDir(), testLog().With("peer", "b"))
			write(t, a.root, "keep.txt", "kept as it is", 0)
			write(t, a.root, "edit-once.txt", "v0 of edit-once", 0)
			write(t, a.root, "edit-twice.txt", "v0 of edit-twice", 0)
			write(t, a.root, "gone.txt", "deleted after the backup", 0)
			write(t, a.root, "edit-then-delete.txt", "v0 of edit-then-delete", 0)
			write(t, a.root, "dir/inner.txt", "inside a directory", 0)
			before, err := folderTree(a.root)
			must(t, err)
			waitTree(t, "initial sync", b.root, before)

			// The backup: a copy of the stopped tracker's state.
			n.stopTracker()
			backup := filepath.Join(t.TempDir(), "backup")
			copyDir(t, n.cfg.StateDir, backup)
			n.startTracker()

			// After the backup: a edits one file once and another twice
			// and creates one; b deletes one, edits then deletes another,
			// and creates one.
			write(t, a.root, "edit-once.txt", "v1 of edit-once, after the backup", time.Minute)
			write(t, a.root, "edit-twice.txt", "v1 of edit-twice", time.Minute)
			write(t, a.root, "new-on-a.txt", "created on a after the backup", time.Minute)
			write(t, b.root, "edit-then-delete.txt", "v1 of edit-then-delete", time.Minute)
			must(t, os.Remove(filepath.Join(b.root, "gone.txt")))
			write(t, b.root, "new-on-b.txt", "created on b after the backup", time.Minute)
			waitFor(t, "a's first edits on b", fileIs(filepath.Join(b.root, "edit-twice.txt"), []byte("v1 of edit-twice")))
			waitFor(t, "b's edit on a", fileIs(filepath.Join(a.root, "edit-then-delete.txt"), []byte("v1 of edit-then-delete")))
			write(t, a.root, "edit-twice.txt", "v2 of edit-twice", 2*time.Minute)
			must(t, os.Remove(filepath.Join(b.root, "edit-then-delete.txt")))
			want := expectTree(map[string]string{
				"keep.txt":       "kept as it is",
				"edit-once.txt":  "v1 of edit-once, after the backup",
				"edit-twice.txt": "v2 of edit-twice",
				"dir/inner.txt":  "inside a directory",
				"new-on-a.txt":   "created on a after the backup",
				"new-on-b.txt":   "created on b after the backup",
			})
			waitTree(t, "converged after the backup", a.root, want)
			waitTree(t, "converged after the backup", b.root, want)

			// The tracker's state goes back. The second peer is down
			// meanwhile and comes back once the first has re-announced.
			first, second := a, b
			if tc.bFirst {
				first, second = b, a
			}
			was := map[*testPeer][3]int64{first: settledCounters(t, first)} // a restarted daemon counts from 0
			n.stopTracker()
			second.stop()
			must(t, os.RemoveAll(n.cfg.StateDir))
			if !tc.fresh {
				copyDir(t, backup, n.cfg.StateDir)
			}
			n.startTracker()
			oldToken := n.token
			n.token = n.srv.Token()
			if tc.fresh == (n.token == oldToken) {
				t.Fatalf("fresh %v, but the token changed: %v", tc.fresh, n.token != oldToken)
			}
			if tc.fresh {
				// A new tracker identity: a running peer stops (the tracker
				// is not the one it joined); the user re-joins it with the
				// new token.
				select {
				case err := <-first.done:
					first.done <- nil
					if !errors.Is(err, tracker.ErrTrackerIdentity) {
						t.Fatalf("peer facing a new tracker identity: %v", err)
					}
				case <-time.After(60 * time.Second):
					t.Fatal("the peer kept running against a tracker of another identity")
				}
				first = n.rejoin(t, first)
			} else {
				waitFor(t, "first re-announced", func() bool { return first.d.Stats().Reannounces >= 2 })
			}
			waitFor(t, "first re-announced", func() bool { return first.d.Stats().Reannounces >= 1 })
			if tc.fresh {
				second = n.rejoin(t, second)
			} else {
				second = n.restart(t, second)
			}
			for _, p := range []*testPeer{first, second} {
				waitFor(t, "re-announce of "+p.root, func() bool { return p.d.Stats().Reannounces >= 1 && p.d.Stats().PendingWants == 0 })
			}
			// No file changes, for a while after both re-announced.
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) {
				for _, p := range []*testPeer{first, second} {
					got, err := folderTree(p.root)
					must(t, err)
					if d := treeDiff(got, want); d != "" {
						t.Fatalf("%s changed after the tracker went back: %s", p.root, d)
					}
					if c := counters(p); c != was[p] {
						t.Fatalf("%s applied, deleted or conflicted after the tracker went back: %v, was %v", p.root, c, was[p])
					}
				}
				time.Sleep(100 * time.Millisecond)
			}

			// A peer that joins now gets exactly the newest state.
			c := n.start(t.TempDir())
			waitTree(t, "late joiner", c.root, want)

			// A change made now reaches everyone.
			write(t, second.root, "keep.txt", "changed after the tracker went back", 3*time.Minute)
			want["keep.txt"] = mustTree(t, second.root)["keep.txt"]
			for _, p := range []*testPeer{first, second, c} {
				waitTree(t, "change after the tracker went back", p.root, want)
			}
		})
	}
}

func mustTree(t *testing.T, root string) map[string]string {
	t.Helper()
	tr, err := folderTree(root)
	must(t, err)
	return tr
}

// rejoin stops p and runs it again with its state, joining the tracker with
// the current token (the tracker's identity changed).
func (n *testNet) rejoin(t *testing.T, p *testPeer) *testPeer {
	t.Helper()
	p.stop()
	return n.restartWith(p, func(cfg *Config) {
		cfg.TrackerAddr, cfg.TrackerID, cfg.Secret = n.srv.Addr().String(), n.token.Tracker, append([]byte(nil), n.token.Secret[:]...)
	})
}

// TestCleanTrackerRestartResumes: after a clean restart of the tracker the
// peers resume where they were: no re-announce.
func TestCleanTrackerRestartResumes(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	write(t, a.root, "f", "before", 0)
	waitFor(t, "f on b", fileIs(filepath.Join(b.root, "f"), []byte("before")))
	ra, rb := a.d.Stats().Reannounces, b.d.Stats().Reannounces
	n.stopTracker()
	n.startTracker()
	write(t, a.root, "g", "after", time.Minute)
	waitFor(t, "g on b", fileIs(filepath.Join(b.root, "g"), []byte("after")))
	if a.d.Stats().Reannounces != ra || b.d.Stats().Reannounces != rb {
		t.Fatalf("re-announced after a clean restart: a %d -> %d, b %d -> %d", ra, a.d.Stats().Reannounces, rb, b.d.Stats().Reannounces)
	}
	if a.d.folders[0].idx.Epoch() == [16]byte{} || a.d.folders[0].idx.Epoch() != b.d.folders[0].idx.Epoch() {
		t.Fatalf("epochs after the restart: a %x, b %x", a.d.folders[0].idx.Epoch(), b.d.folders[0].idx.Epoch())
	}
}
