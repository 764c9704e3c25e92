package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// TestKilledBetweenApplyAndRecord (acceptance e): a peer is killed
// (SIGKILL) right after it renamed received files into place and before
// its index recorded them; meanwhile the files are edited again elsewhere.
// After its restart no conflict copy appears anywhere (it never reports a
// version it merely received as its own edit) and every peer converges.
//
// The kill lands in that window deterministically through the peer's
// debug flag --debug-kill-after-rename (the process kills itself
// right after its first renames); the test checks the window was hit: on
// the killed peer's disk some file holds the received version while its
// index still records the one before.
func TestKilledBetweenApplyAndRecord(t *testing.T) {
	c := newCluster(t, 3)
	p1, p2 := c.peers[0], c.peers[1]
	const files = 40
	version := func(v int) tree {
		t.Helper()
		for i := range files {
			writeFile(t, p1.dir, fmt.Sprintf("batch/f%02d.txt", i), []byte(fmt.Sprintf("file %d, version %d\n", i, v)), 0o644)
		}
		return c.snapshot(p1)
	}
	want := version(1)
	c.waitAll("version 1", want)

	// Version 2 reaches p2, which dies after renaming it into place.
	p2.p.stop()
	want = version(2)
	c.waitAll("version 2 on the peers online", want, p1, c.peers[2])
	c.launchPeer(p2, false, "--debug-kill-after-rename")
	if _, ok := p2.p.waitExit(syncWait); !ok {
		t.Fatal("peer2 did not kill itself after renaming files")
	}
	if n := renamedUnrecorded(t, p2); n == 0 {
		t.Fatal("the kill missed the window: no file of version 2 on peer2's disk with version 1 in its index")
	} else {
		t.Logf("peer2 killed with %d of %d files renamed into place but not recorded", n, files)
	}

	// The version moves on while p2 is down; then p2 comes back.
	want = version(3)
	c.waitAll("version 3 on the peers online", want, p1, c.peers[2])
	c.startPeer(p2, false)
	// A file p2 makes after its restart is reported after anything its
	// first scan reported: once it is everywhere, so is any conflict that
	// scan caused.
	writeFile(t, p2.dir, "after restart.txt", []byte("made on peer2 after its restart\n"), 0o644)
	want["after restart.txt"] = fileEntry([]byte("made on peer2 after its restart\n"), false)
	c.waitAll("convergence after the restart", want)
	for _, pp := range c.peers {
		for p := range c.snapshot(pp) {
			if strings.Contains(p, ".sync-conflict-") {
				t.Errorf("conflict copy %s on %s", p, pp.name)
			}
		}
	}
	if log := lastRun(t, p2); strings.Contains(log, "our_copy=") || strings.Contains(log, ".sync-conflict-") {
		t.Errorf("peer2 reported a received version as its own edit after the restart:\n%s", grepLines(log, "conflict"))
	}
	c.stopAll()
}

// renamedUnrecorded counts pp's files that hold version 2 while its index
// records another version (pp is not running).
func renamedUnrecorded(t *testing.T, pp *peerProc) int {
	t.Helper()
	x, err := index.Open(pp.state)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	n := 0
	for i := range 40 {
		rel := fmt.Sprintf("batch/f%02d.txt", i)
		b, err := os.ReadFile(filepath.Join(pp.dir, filepath.FromSlash(rel)))
		if err != nil || string(b) != fmt.Sprintf("file %d, version 2\n", i) {
			continue
		}
		m, err := manifest.BuildBytes(context.Background(), b, pieceSize)
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := x.Get(rel); !ok || e.Manifest.ID != m.ID {
			n++
		}
	}
	return n
}
