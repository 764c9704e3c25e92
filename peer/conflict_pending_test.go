package peer

import (
	"bytes"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/bandwidth"
)

// TestConflictArrivingMidRoundKeepsLocalCopy: b holds a's version A1 of
// f.txt. While b's pull round is between its new paths and its updates,
// c reports its own version C1 of f.txt, written later and never based on
// A1: the tracker keeps C1 at the name and moves A1 to a conflict name,
// owned by a and b, in one commit. The round must not apply the update
// (C1 over A1) before the conflict copy, which is a new path and so
// belongs to a phase the round has passed: b's copy of A1 would be gone,
// and with a stopped nobody could build the conflict copy. The update
// waits (copyPending) and the next round builds the copy first, from b's
// own file.
func TestConflictArrivingMidRoundKeepsLocalCopy(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	// The hook, once armed, holds b's round between its phases until the
	// test releases it.
	var armed atomic.Bool
	reached, release := make(chan struct{}), make(chan struct{})
	b := n.startPrepared(t.TempDir(), func(d *Daemon) {
		d.folders[0].pull.afterAdds = func(updates int) {
			if updates > 0 && armed.CompareAndSwap(true, false) {
				close(reached)
				<-release
			}
		}
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	c := n.start(t.TempDir())
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// A1 is many pieces, more than c's receive limit lets it fetch in the
	// test's time: c must not save the conflict copy by fetching A1 from b
	// while b's round waits.
	a1 := bytes.Repeat([]byte("a's version, on a and b. "), 40_000)
	c1 := []byte("c's version, written later, never based on a's")
	c.stop() // c never sees A1
	must(os.WriteFile(filepath.Join(a.root, "f.txt"), a1, 0o644))
	must(os.WriteFile(filepath.Join(a.root, "r.txt"), []byte("r, first"), 0o644))
	waitFor(t, "A1 on b", fileIs(filepath.Join(b.root, "f.txt"), a1))
	waitFor(t, "r on b", fileIs(filepath.Join(b.root, "r.txt"), []byte("r, first")))
	waitFor(t, "b owns A1", func() bool { return b.d.Stats().PendingWants == 0 })

	// The worst moment: b's next round has applied its new path (q.txt)
	// and not yet its update (r.txt) when A1 moves to the conflict name.
	armed.Store(true)
	must(os.WriteFile(filepath.Join(a.root, "q.txt"), []byte("a new path for b's round"), 0o644))
	must(os.WriteFile(filepath.Join(a.root, "r.txt"), []byte("r, second"), 0o644))
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatal("b's round never reached its updates")
	}
	a.stop() // only b can build A1's conflict copy now
	must(os.WriteFile(filepath.Join(c.root, "f.txt"), c1, 0o644))
	later := time.Now().Add(time.Minute)
	must(os.Chtimes(filepath.Join(c.root, "f.txt"), later, later))
	c = n.restartWith(c, func(cfg *Config) { cfg.Bandwidth.Recv = bandwidth.MinRate }) // C1 meets A1: C1 keeps the name
	idx := b.d.folders[0].idx
	waitFor(t, "b stored the conflict's wants", func() bool {
		id, ok := idx.WantID("f.txt")
		ie, _ := idx.Get("f.txt")
		return ok && id != ie.Manifest.ID
	})
	close(release)

	waitFor(t, "C1 at the name on b", fileIs(filepath.Join(b.root, "f.txt"), c1))
	waitFor(t, "A1 kept under a conflict name on b", func() bool {
		return conflictCopy(b.root, "f.sync-conflict-", a1) != ""
	})
	a = n.restart(t, a) // the source of r's second version, which waited
	waitFor(t, "r's second version on b", fileIs(filepath.Join(b.root, "r.txt"), []byte("r, second")))
	waitFor(t, "b has nothing left to fetch", func() bool { return b.d.Stats().PendingWants == 0 })
}
