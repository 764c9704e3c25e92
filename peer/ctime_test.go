package peer

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// haveCtime: this platform's stat carries the inode change time.
func haveCtime(t *testing.T) bool {
	t.Helper()
	fi, err := os.Lstat(t.TempDir())
	return err == nil && scan.StatOf(fi).Ctime != 0
}

// rewriteKeepMtime rewrites p in place with data of the same size and sets
// the old mtime back, as cp -p or rsync -t --inplace do.
func rewriteKeepMtime(t *testing.T, p string, data []byte) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != int64(len(data)) {
		t.Fatalf("rewrite of %d bytes over %d", len(data), fi.Size())
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	after, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st0, st1 := scan.StatOf(fi), scan.StatOf(after); st0.Size != st1.Size || st0.ModTime != st1.ModTime || st0.Inode != st1.Inode {
		t.Fatalf("rewrite changed more than the ctime: %+v -> %+v", st0, st1)
	}
}

// scanned kicks a local scan on p and waits until one has completed.
func (p *testPeer) scanned(t *testing.T) {
	t.Helper()
	before := p.d.Stats().ScansCompleted
	kick(p.d.folders[0].scanKick)
	waitFor(t, "a local scan", func() bool { return p.d.Stats().ScansCompleted > before })
}

// TestSameSizeRewriteRestoredMtimeSyncs: a same-size rewrite that restores
// the mtime (size, mtime and inode unchanged) reaches the other peer, by
// the watcher alone; a chmod or a new hard link (ctime only) costs a rehash
// but reports nothing; the receiver never reports its own writes or moves.
func TestSameSizeRewriteRestoredMtimeSyncs(t *testing.T) {
	if !haveCtime(t) {
		t.Skip("no inode change time on this platform")
	}
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	pa, pb := filepath.Join(a.root, "doc.txt"), filepath.Join(b.root, "doc.txt")
	v1, v2 := []byte("version one of the file, same size"), []byte("VERSION TWO of the file, same size")
	if err := os.WriteFile(pa, v1, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(pa, old, old); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "v1 on b", fileIs(pb, v1))
	waitFor(t, "a recorded v1", func() bool { return a.d.Stats().LocalChanges == 1 })

	rewriteKeepMtime(t, pa, v2)
	waitFor(t, "same-size rewrite with the old mtime on b", fileIs(pb, v2))
	if got := a.d.Stats().LocalChanges; got != 2 {
		t.Errorf("a reported %d changes, want 2", got)
	}
	waitFor(t, "b counted v2", func() bool { return b.d.Stats().FilesApplied == 2 })

	// ctime-only changes on a: a chmod and a hard link from outside the
	// folder. Each is hashed again (and restaged), never reported.
	applied := b.d.Stats().FilesApplied
	if err := os.Chmod(pa, 0o600); err != nil {
		t.Fatal(err)
	}
	a.scanned(t)
	if err := os.Link(pa, filepath.Join(t.TempDir(), "outside-link")); err != nil {
		t.Logf("hard link: %v (skipped)", err)
	}
	a.scanned(t)
	fi, err := os.Lstat(pa)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a restaged the new ctime", func() bool {
		e, ok := a.d.folders[0].idx.Get("doc.txt")
		return ok && e.Stat == scan.StatOf(fi)
	})
	if got := a.d.Stats().LocalChanges; got != 2 {
		t.Errorf("a ctime-only change was reported: %d changes, want 2", got)
	}

	// b's own writes (an apply and a move) are never reported back.
	if err := os.Rename(pa, filepath.Join(a.root, "moved.txt")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "move on b", fileIs(filepath.Join(b.root, "moved.txt"), v2))
	b.scanned(t)
	if got := b.d.Stats().LocalChanges; got != 0 {
		t.Errorf("b reported %d local changes for files it only received", got)
	}
	if got := b.d.Stats().FilesApplied; got != applied+1 {
		t.Errorf("b applied %d files, want %d (the move only)", got, applied+1)
	}
}

// TestIndexWithoutCtimeRehashedOnce: a peer restarted on an index written
// before ctimes were kept (every entry's ctime unknown) hashes its files
// once, reports nothing, and records their ctimes.
func TestIndexWithoutCtimeRehashedOnce(t *testing.T) {
	if !haveCtime(t) {
		t.Skip("no inode change time on this platform")
	}
	n := newTestNet(t)
	a := n.start(t.TempDir())
	for _, name := range []string{"one", "two", "three"} {
		if err := os.WriteFile(filepath.Join(a.root, name), []byte("content of "+name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a reported its files", func() bool { return a.d.Stats().LocalChanges == 3 })
	cfg := a.d.cfg
	a.stop()

	idx, err := index.Open(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range idx.Paths() {
		e, _ := idx.Get(p)
		e.Stat.Ctime = 0
		idx.Stage(e)
	}
	if err := idx.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}

	a2 := n.restart(t, a)
	for _, name := range []string{"one", "two", "three"} {
		fi, err := os.Lstat(filepath.Join(a2.root, name))
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, name+" recorded with its ctime", func() bool {
			e, ok := a2.d.folders[0].idx.Get(name)
			return ok && e.Stat == scan.StatOf(fi)
		})
	}
	if got := a2.d.Stats().LocalChanges; got != 0 {
		t.Errorf("restart on an index without ctimes reported %d changes", got)
	}
}
