package peer

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/bandwidth"
	"github.com/dartsync/dartsync/tracker"
)

// TestConflictArrivingMidRoundKeepsLocalCopy: b holds a's version A1 of a
// file. While b's pull round is between its new paths and its updates
// (it has an update and a deletion of other files to apply), c reports
// its own version C1 of the file, written later and never based on A1:
// the tracker keeps C1 at the name and moves A1 to a conflict name, owned
// by a and b, in one commit. In the deletion cases c then deletes C1 (the
// file, or its whole directory), so b wants the name deleted. The round
// must neither apply the update (C1 over A1) nor the deletion before the
// conflict copy, which is a new path and so belongs to a phase the round
// has passed: b's copy of A1 would be gone, and with a stopped nobody
// could build the conflict copy. The change waits (copyPending) and the
// next round builds the copy first, from b's own file. With a name so long
// that the tracker shortens its conflict name, the copy is found too.
func TestConflictArrivingMidRoundKeepsLocalCopy(t *testing.T) {
	long := strings.Repeat("f", 240) + ".txt" // its conflict names are shortened
	tests := []struct {
		name string
		file string // the path in conflict
		del  string // what c deletes after C1 won ("": nothing)
	}{
		{"update", "f.txt", ""},
		{"update, long name", long, ""},
		{"deletion", "f.txt", "f.txt"},
		{"deletion, long name", long, long},
		{"directory deletion", "d/f.txt", "d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testConflictMidRound(t, tt.file, tt.del) })
	}
}

func testConflictMidRound(t *testing.T, file, del string) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	// The hook, once armed, holds b's round between its phases until the
	// test releases it: a round with updates that also has s.txt's
	// deletion to apply (both arrive in one report of a).
	var armed atomic.Bool
	reached, release := make(chan struct{}), make(chan struct{})
	b := n.startPrepared(t.TempDir(), func(d *Daemon) {
		d.folders[0].pull.afterAdds = func(updates int) {
			if updates == 0 || !armed.Load() {
				return
			}
			if _, ok := d.folders[0].idx.WantID("s.txt"); !ok {
				return
			}
			if armed.CompareAndSwap(true, false) {
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
	must(os.MkdirAll(filepath.Dir(filepath.Join(a.root, file)), 0o755))
	must(os.WriteFile(filepath.Join(a.root, file), a1, 0o644))
	must(os.WriteFile(filepath.Join(a.root, "r.txt"), []byte("r, first"), 0o644))
	must(os.WriteFile(filepath.Join(a.root, "s.txt"), []byte("s, deleted in the held round"), 0o644))
	waitFor(t, "A1 on b", fileIs(filepath.Join(b.root, file), a1))
	waitFor(t, "r on b", fileIs(filepath.Join(b.root, "r.txt"), []byte("r, first")))
	waitFor(t, "s on b", fileIs(filepath.Join(b.root, "s.txt"), []byte("s, deleted in the held round")))
	waitFor(t, "b owns A1", func() bool { return b.d.Stats().PendingWants == 0 })

	// The worst moment: b's next round has applied its new path (q.txt)
	// and not yet its update (r.txt) nor its deletion (s.txt) when A1
	// moves to the conflict name. a makes the three changes while stopped,
	// so that one report brings them.
	a.stop()
	must(os.WriteFile(filepath.Join(a.root, "q.txt"), []byte("a new path for b's round"), 0o644))
	must(os.WriteFile(filepath.Join(a.root, "r.txt"), []byte("r, second"), 0o644))
	must(os.Remove(filepath.Join(a.root, "s.txt")))
	armed.Store(true)
	a = n.restart(t, a)
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatal("b's round never reached its updates")
	}
	a.stop() // only b can build A1's conflict copy now
	must(os.MkdirAll(filepath.Dir(filepath.Join(c.root, file)), 0o755))
	must(os.WriteFile(filepath.Join(c.root, file), c1, 0o644))
	later := time.Now().Add(time.Minute)
	must(os.Chtimes(filepath.Join(c.root, file), later, later))
	c = n.restartWith(c, func(cfg *Config) { cfg.Bandwidth.Recv = bandwidth.MinRate }) // C1 meets A1: C1 keeps the name
	idx := b.d.folders[0].idx
	waitFor(t, "b stored the conflict's wants", func() bool {
		id, ok := idx.WantID(file)
		ie, _ := idx.Get(file)
		return ok && id != ie.Manifest.ID
	})
	if del != "" {
		waitFor(t, "c holds C1", func() bool {
			ie, ok := c.d.folders[0].idx.Get(file)
			return ok && !ie.Manifest.Deleted && ie.Manifest.Size == int64(len(c1))
		})
		must(os.RemoveAll(filepath.Join(c.root, del)))
		waitFor(t, "b stored the deletion", func() bool {
			id, ok := idx.WantID(file)
			if !ok {
				return false
			}
			w, ok, err := idx.Want(file, id)
			return err == nil && ok && w.Manifest.Deleted
		})
	}
	close(release)

	if del == "" {
		waitFor(t, "C1 at the name on b", fileIs(filepath.Join(b.root, file), c1))
	} else {
		waitFor(t, "the name deleted on b", func() bool {
			_, err := os.Lstat(filepath.Join(b.root, file))
			return os.IsNotExist(err)
		})
	}
	waitFor(t, "A1 kept under a conflict name on b", func() bool {
		return conflictCopyOf(b.root, file, a1) != ""
	})
	a = n.restart(t, a) // the source of r's second version, which waited
	waitFor(t, "r's second version on b", fileIs(filepath.Join(b.root, "r.txt"), []byte("r, second")))
	waitFor(t, "b has nothing left to fetch", func() bool { return b.d.Stats().PendingWants == 0 })
	if _, err := os.Lstat(filepath.Join(b.root, "s.txt")); !os.IsNotExist(err) {
		t.Errorf("s.txt on b: %v, want it deleted", err)
	}
}

// conflictCopyOf returns the folder path of a conflict copy of file
// (tracker.IsConflictNameOf) under root that holds data, or "".
func conflictCopyOf(root, file string, data []byte) string {
	dir := path.Dir(file)
	ents, _ := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
	for _, e := range ents {
		p := path.Join(dir, e.Name())
		if tracker.IsConflictNameOf(p, file) && fileIs(filepath.Join(root, filepath.FromSlash(p)), data)() {
			return p
		}
	}
	return ""
}
