package peer

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// writeTree writes files files of about 1 KiB under root/top, 100 per
// directory (top/dNN/fNNNN), and returns the tree (folderTree form).
func writeTree(t *testing.T, root, top string, files int) map[string]string {
	t.Helper()
	want := map[string]string{}
	for j := 0; j < files; j++ {
		rel := fmt.Sprintf("%s/d%02d/f%04d", top, j/100, j)
		data := fmt.Sprintf("file %d of %s %0900d", j, top, j)
		write(t, root, rel, data, 0)
		want[rel] = data
	}
	return expectTree(want)
}

// waitLong is waitFor with a deadline for a few thousand files under the
// race detector.
func waitLong(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// treeHas reports whether the folder at root holds exactly want.
func treeHas(root string, want map[string]string) func() bool {
	return func() bool {
		got, err := folderTree(root)
		if err != nil || len(got) != len(want) {
			return false
		}
		for p, s := range want {
			if got[p] != s {
				return false
			}
		}
		return true
	}
}

// wantsLeft reports whether the peer's index still stores a want.
func wantsLeft(t *testing.T, p *testPeer) bool {
	t.Helper()
	ws, err := p.d.folders[0].idx.WantsPage("", 1)
	must(t, err)
	return len(ws) > 0
}

// withPage sets the pull's page size of every folder of d.
func withPage(n int) func(*Daemon) {
	return func(d *Daemon) {
		for _, f := range d.folders {
			f.pull.page = n
		}
	}
}

// TestPullAcrossPages: a new peer receives 2 500 files, more than two
// pages of wants (1 024 each): every one arrives with its content, and no
// want is left.
func TestPullAcrossPages(t *testing.T) {
	if testing.Short() {
		t.Skip("2 500 files")
	}
	n := newTestNetPieces(t, 1<<20)
	a := n.start(t.TempDir())
	want := writeTree(t, a.root, "top", 2500)
	waitLong(t, "a's files reported", func() bool { return a.d.Stats().LocalChanges >= 2500 })
	b := n.startPrepared(t.TempDir(), withPage(1024))
	waitLong(t, "every file on b", treeHas(b.root, want))
	waitLong(t, "b's wants forgotten", func() bool { return !wantsLeft(t, b) })
	if got := b.d.Stats().FilesApplied; got != 2500 {
		t.Errorf("b applied %d files, want 2500", got)
	}
}

// TestPullMovesAndDeletesAcrossPages: with a page of 64 wants, a renamed
// directory of 300 files arrives as moves whose tombstones and new paths
// are on different pages and in several move windows: every file is
// renamed, none fetched again; then the directory's deletion removes every
// file and directory (files first, then directories deepest first, across
// pages), and nothing else.
func TestPullMovesAndDeletesAcrossPages(t *testing.T) {
	n := newTestNetPieces(t, 1<<20)
	a := n.start(t.TempDir())
	b := n.startPrepared(t.TempDir(), withPage(64))
	want := writeTree(t, a.root, "old", 300)
	write(t, a.root, "other.txt", "stays", 0)
	want["other.txt"] = fileSum([]byte("stays"))
	waitLong(t, "the tree on b", treeHas(b.root, want))
	received := b.d.Stats().BytesReceived

	must(t, os.Rename(filepath.Join(a.root, "old"), filepath.Join(a.root, "new")))
	moved := map[string]string{}
	for p, s := range want {
		if rel, ok := cutPrefix(p, "old/"); ok {
			p = "new/" + rel
		} else if p == "old" {
			p = "new"
		}
		moved[p] = s
	}
	waitLong(t, "the renamed tree on b", treeHas(b.root, moved))
	if got := b.d.Stats().BytesReceived; got != received {
		t.Errorf("b received %d bytes for a rename, want 0 (moved, not fetched)", got-received)
	}

	must(t, os.RemoveAll(filepath.Join(a.root, "new")))
	left := map[string]string{"other.txt": fileSum([]byte("stays"))}
	waitLong(t, "the deletion on b", treeHas(b.root, left))
	waitLong(t, "b's directories gone", func() bool {
		_, err := os.Lstat(filepath.Join(b.root, "new"))
		return os.IsNotExist(err)
	})
	waitLong(t, "b's wants forgotten", func() bool { return !wantsLeft(t, b) })
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return "", false
}

// levelCounter counts the records at each level (and keeps the info
// ones' messages).
type levelCounter struct {
	mu    *sync.Mutex
	n     map[slog.Level]int
	infos *[]string
}

func newLevelCounter() *levelCounter {
	return &levelCounter{mu: new(sync.Mutex), n: map[slog.Level]int{}, infos: new([]string)}
}

func (c *levelCounter) Enabled(context.Context, slog.Level) bool { return true }

func (c *levelCounter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[r.Level]++
	if r.Level == slog.LevelInfo {
		*c.infos = append(*c.infos, r.Message)
	}
	return nil
}

func (c *levelCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *levelCounter) WithGroup(string) slog.Handler      { return c }

func (c *levelCounter) count(l slog.Level) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[l]
}

// TestReceiveLogsQuiet: a new peer receiving 400 files logs a bounded
// number of info lines (start, registration, a summary per round and per
// few seconds), not one per file; per-file lines are at debug level.
func TestReceiveLogsQuiet(t *testing.T) {
	n := newTestNetPieces(t, 1<<20)
	a := n.start(t.TempDir())
	want := writeTree(t, a.root, "top", 400)
	waitLong(t, "a's files reported", func() bool { return a.d.Stats().LocalChanges >= 400 })
	logs := newLevelCounter()
	b := n.startLogged(t.TempDir(), slog.New(logs))
	waitLong(t, "every file on b", treeHas(b.root, want))
	b.stop()
	logs.mu.Lock()
	infos := append([]string(nil), *logs.infos...)
	logs.mu.Unlock()
	// Start, registration, stop, and one summary per round plus one per
	// progressEvery: far fewer than one per file.
	if len(infos) > 40 {
		t.Errorf("%d info lines for 400 files received, want at most 40: %q", len(infos), infos)
	}
	if w := logs.count(slog.LevelWarn) + logs.count(slog.LevelError); w > 0 {
		t.Errorf("%d warnings or errors in a plain sync", w)
	}
	if d := logs.count(slog.LevelDebug); d < 400 {
		t.Errorf("%d debug lines, want at least one per file (400)", d)
	}
}

// TestReannounceInBatches: a tracker restored from a backup older than
// every file makes a peer of 2 500 files re-announce its whole index, in
// batches of reannouncePage entries (three, here); every entry is
// announced, and a peer joining afterwards receives every file.
func TestReannounceInBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("2 500 files")
	}
	n := newTestNetPieces(t, 1<<20)
	n.stopTracker()
	backup := filepath.Join(t.TempDir(), "backup")
	copyDir(t, n.cfg.StateDir, backup)
	n.startTracker()
	a := n.start(t.TempDir())
	want := writeTree(t, a.root, "top", 2500)
	waitLong(t, "a's files reported", func() bool { return a.d.Stats().LocalChanges >= 2500 })
	// The index records a report's entries once the tracker answered,
	// a moment after the counter moved: wait until they all are.
	last, entries := -1, 0
	waitLong(t, "a's files recorded", func() bool {
		entries = a.d.folders[0].idx.Len()
		settled := entries >= 2500 && entries == last
		last = entries
		time.Sleep(100 * time.Millisecond)
		return settled
	})
	if entries <= 2*reannouncePage {
		t.Fatalf("%d index entries: fewer than three pages", entries)
	}

	was := a.d.Stats()
	n.stopTracker()
	must(t, os.RemoveAll(n.cfg.StateDir))
	copyDir(t, backup, n.cfg.StateDir)
	n.startTracker()
	waitLong(t, "a re-announced", func() bool { return a.d.Stats().Reannounces > was.Reannounces })
	if got := a.d.Stats().Reannounced - was.Reannounced; got != int64(entries) {
		t.Errorf("re-announced %d entries, want %d", got, entries)
	}
	c := n.start(t.TempDir())
	waitLong(t, "every file on a new peer", treeHas(c.root, want))
}
