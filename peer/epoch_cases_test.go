package peer

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// TestReannounceConflictKeepsBoth: a peer whose index comes from another
// tracker joins one where the same path holds an unrelated version: the
// re-announce makes a conflict, the peer's version (older) is kept under its
// conflict name on both peers before the other replaces the path, and the
// peer's other files reach the first peer.
func TestReannounceConflictKeepsBoth(t *testing.T) {
	n1, n2 := newTestNet(t), newTestNet(t)
	a := n1.start(t.TempDir())
	b := n2.start(t.TempDir())
	write(t, a.root, "x.txt", "x as a has it", 2*time.Minute)
	write(t, b.root, "x.txt", "x as b has it", time.Minute)
	write(t, b.root, "y.txt", "only b has y", time.Minute)
	waitFor(t, "a reported x", func() bool { return a.d.Stats().LocalChanges >= 1 })
	waitFor(t, "b reported x and y", func() bool { return b.d.Stats().LocalChanges >= 2 })

	b = n1.rejoin(t, b)
	waitFor(t, "b re-announced", func() bool { return b.d.Stats().Reannounces >= 1 })
	want := expectTree(map[string]string{"x.txt": "x as a has it", "y.txt": "only b has y"})
	for _, p := range []*testPeer{a, b} {
		waitFor(t, "both versions of x in "+p.root, func() bool {
			got, err := folderTree(p.root)
			if err != nil || len(got) != 3 || got["x.txt"] != want["x.txt"] || got["y.txt"] != want["y.txt"] {
				return false
			}
			return conflictCopy(p.root, "x.sync-conflict-", []byte("x as b has it")) != ""
		})
	}
	if c := b.d.Stats().Conflicts; c != 1 {
		t.Errorf("b counted %d conflicts, want 1", c)
	}
}

// TestReannounceForgetsHeldUpdates: tracker updates held unstored (a full
// disk) before a re-announce are dropped with the stored wants: once the
// disk is back they do not come back as wants.
func TestReannounceForgetsHeldUpdates(t *testing.T) {
	d := applyFixture(t)
	fw := &failingWriter{x: d.idx}
	d.writes.w = fw
	h := d.handler
	if err := d.idx.Update(index.Batch{Wants: []index.Want{{Manifest: entry(t, "stored", "old epoch", 3).Manifest, Seq: 3}}, Seq: 3}); err != nil {
		t.Fatal(err)
	}
	fw.fail.Store(true)
	h.Updates([]tracker.Entry{entry(t, "held", "old epoch", 4)})
	if d.writes.count() != 1 {
		t.Fatalf("held %d updates, want 1", d.writes.count())
	}
	fw.fail.Store(false)
	if err := d.handler.registering(tracker.RegisterInfo{Reannounce: true, Conn: 1, Epoch: tracker.Epoch{9}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.rs.pendingReannounce(); !ok {
		t.Fatal("no re-announce pending")
	}
	d.writes.dropUpdates()
	h.Updates([]tracker.Entry{entry(t, "new", "new epoch", 1)})
	for _, p := range []string{"stored", "held"} {
		if _, ok := d.idx.WantID(p); ok {
			t.Errorf("want for %q of the old epoch survived the re-announce", p)
		}
	}
	if _, ok := d.idx.WantID("new"); !ok {
		t.Error("the new epoch's update was not stored")
	}
	if d.idx.Epoch() != [16]byte{} {
		t.Errorf("epoch %x recorded before the re-announce ended", d.idx.Epoch())
	}
}

// TestTrackerRestoredBehindPeer: a third peer that went offline halfway
// through the changes made after the backup (it has the first edit, not
// the second, nor a deletion) reconnects first, or last, to the restored
// tracker: it ends with the newest state, the up-to-date peers change
// nothing, and no conflict copy appears.
func TestTrackerRestoredBehindPeer(t *testing.T) {
	for _, behindFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("behind peer first %v", behindFirst), func(t *testing.T) {
			n := newTestNet(t)
			a := n.start(t.TempDir())
			b := n.start(t.TempDir())
			c := n.start(t.TempDir())
			write(t, a.root, "f.txt", "f version 0", 0)
			write(t, a.root, "h.txt", "h, deleted after the backup", 0)
			for _, p := range []*testPeer{b, c} {
				waitTree(t, "initial", p.root, expectTree(map[string]string{"f.txt": "f version 0", "h.txt": "h, deleted after the backup"}))
			}
			n.stopTracker()
			backup := filepath.Join(t.TempDir(), "backup")
			copyDir(t, n.cfg.StateDir, backup)
			n.startTracker()

			write(t, a.root, "f.txt", "f version 1", time.Minute)
			waitFor(t, "v1 on c", fileIs(filepath.Join(c.root, "f.txt"), []byte("f version 1")))
			c.stop()
			write(t, a.root, "f.txt", "f version 2", 2*time.Minute)
			write(t, a.root, "g.txt", "g, new after the backup", 2*time.Minute)
			must(t, os.Remove(filepath.Join(b.root, "h.txt")))
			want := expectTree(map[string]string{"f.txt": "f version 2", "g.txt": "g, new after the backup"})
			waitTree(t, "after the backup", a.root, want)
			waitTree(t, "after the backup", b.root, want)

			n.stopTracker()
			a.stop()
			b.stop()
			must(t, os.RemoveAll(n.cfg.StateDir))
			copyDir(t, backup, n.cfg.StateDir)
			n.startTracker()
			order := []*testPeer{a, b, c}
			if behindFirst {
				order = []*testPeer{c, a, b}
			}
			var peers []*testPeer
			for _, p := range order {
				p = n.restart(t, p)
				waitFor(t, "re-announce of "+p.root, func() bool { return p.d.Stats().Reannounces >= 1 })
				peers = append(peers, p)
			}
			for _, p := range peers {
				waitTree(t, "newest state", p.root, want)
			}
			for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
				for _, p := range peers {
					waitTree(t, "newest state, still", p.root, want)
					s := p.d.Stats()
					if s.Conflicts != 0 {
						t.Fatalf("%s: %d conflicts", p.root, s.Conflicts)
					}
					if p.root != c.root && s.FilesApplied+s.FilesDeleted != 0 {
						t.Fatalf("%s, up to date, applied %d and deleted %d files", p.root, s.FilesApplied, s.FilesDeleted)
					}
				}
			}
		})
	}
}
