package peer

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/localapi"
)

// TestUnreadableFileWarnedOnce: a local file nobody may read (chmod 000)
// is warned about once however many scans skip it, is neither synced nor
// taken for deleted, and the rest of the folder syncs; once readable it
// syncs too. Run as nobody when the tests run as root (runUnprivileged).
func TestUnreadableFileWarnedOnce(t *testing.T) {
	if runUnprivileged(t) {
		return
	}
	n := newTestNet(t)
	rec, log := newLogRecorder()
	a := n.startLogged(t.TempDir(), log)
	b := n.start(t.TempDir())
	locked := filepath.Join(a.root, "locked.txt")
	writeTestFile(t, a.root, "locked.txt", "secret")
	mustDo(t, os.Chmod(locked, 0o000))
	scans := a.d.Stats().ScansCompleted
	for i := range 4 { // a scan each
		name := fmt.Sprintf("ok%d.txt", i)
		writeTestFile(t, a.root, name, name)
		waitFor(t, "b has "+name, fileIs(filepath.Join(b.root, name), []byte(name)))
	}
	if got := a.d.Stats().ScansCompleted - scans; got < 2 {
		t.Fatalf("only %d scans", got)
	}
	if got := rec.count("not synced: cannot read it"); got != 1 {
		t.Errorf("unreadable file warned %d times, want once", got)
	}
	if !errorAbout(a, "locked.txt", "cannot read") {
		t.Error("the unreadable file is not in a's status errors")
	}
	if _, err := os.Lstat(filepath.Join(b.root, "locked.txt")); !os.IsNotExist(err) {
		t.Errorf("the unreadable file reached b: %v", err)
	}
	mustDo(t, os.Chmod(locked, 0o644))
	writeTestFile(t, a.root, "kick.txt", "scan") // the chmod alone may not be an event
	waitFor(t, "b has locked.txt once readable", fileIs(filepath.Join(b.root, "locked.txt"), []byte("secret")))
}

// TestReadOnlyDirectoryTarget: b cannot write into a directory of its
// folder (chmod 555): a new file, a new version and a deletion there are
// reported once each (log, Status), retried with backoff, nothing is left in the folder
// (no partial, no temporary file), the old file stays, and the rest of the
// folder syncs; once the directory is writable again they arrive. Run as
// nobody when the tests run as root (runUnprivileged).
func TestReadOnlyDirectoryTarget(t *testing.T) {
	if runUnprivileged(t) {
		return
	}
	n := newTestNet(t)
	a := n.start(t.TempDir())
	rec, log := newLogRecorder()
	b := n.startLogged(t.TempDir(), log)
	writeTestFile(t, a.root, "ro/old.txt", "v1")
	writeTestFile(t, a.root, "ro/gone.txt", "deleted later")
	waitFor(t, "b has ro/old.txt", fileIs(filepath.Join(b.root, "ro", "old.txt"), []byte("v1")))
	waitFor(t, "b has ro/gone.txt", fileIs(filepath.Join(b.root, "ro", "gone.txt"), []byte("deleted later")))
	ro := filepath.Join(b.root, "ro")
	mustDo(t, os.Chmod(ro, 0o555))
	t.Cleanup(func() { os.Chmod(ro, 0o755) })

	writeTestFile(t, a.root, "ro/old.txt", "v2")
	writeTestFile(t, a.root, "ro/new.txt", "new")
	mustDo(t, os.Remove(filepath.Join(a.root, "ro", "gone.txt")))
	waitFor(t, "the three faults in b's status", func() bool {
		state, reason := folderError(b)
		return state == localapi.StateError && strings.Contains(reason, "permission denied") &&
			strings.Contains(reason, "(and 2 more)") && errorAbout(b, "ro/gone.txt", "permission denied") &&
			errorAbout(b, "ro/old.txt", "permission denied") && errorAbout(b, "ro/new.txt", "permission denied")
	})
	writeTestFile(t, a.root, "other.txt", "syncs")
	waitFor(t, "b has other.txt", fileIs(filepath.Join(b.root, "other.txt"), []byte("syncs")))
	time.Sleep(time.Second) // a few retries
	if got := rec.count("cannot write: permission denied"); got != 3 {
		t.Errorf("warned %d times, want once for each of the 3 paths", got)
	}
	for _, p := range []string{"ro/old.txt", "ro/new.txt", "ro/gone.txt"} {
		if got := b.d.folderList()[0].state.faults.attempts(p); got > 8 {
			t.Errorf("%s: %d attempts in about a second: not backing off", p, got)
		}
	}
	kept, _ := filepath.Glob(filepath.Join(b.root, manifest.StateDir, "versions", "ro", "old*"))
	if len(kept) > 1 {
		t.Errorf("the old file kept %d times in versions for one replacement: %v", len(kept), kept)
	}
	want := map[string]string{"ro": "dir", "ro/old.txt": "v1", "ro/gone.txt": "deleted later", "other.txt": "syncs"}
	if got := treeOf(t, b.root); !maps.Equal(got, want) {
		t.Fatalf("b's folder = %v, want %v", got, want)
	}

	mustDo(t, os.Chmod(ro, 0o755))
	waitFor(t, "b has the new version", fileIs(filepath.Join(ro, "old.txt"), []byte("v2")))
	waitFor(t, "b has the new file", fileIs(filepath.Join(ro, "new.txt"), []byte("new")))
	waitFor(t, "b deleted ro/gone.txt", func() bool { _, err := os.Lstat(filepath.Join(ro, "gone.txt")); return os.IsNotExist(err) })
	waitFor(t, "b's error cleared", func() bool { state, _ := folderError(b); return state != localapi.StateError })
}

// TestUnreadableTargetBacksOff: b's copy of a synced file becomes
// unreadable (chmod 000) and another device changes the file. b cannot
// tell whether it was edited here (the scan cannot read it), so it is not
// replaced: warned about once, retried with backoff, not rescanned at every
// round; the rest syncs; once readable again the new version arrives. Run
// as nobody when the tests run as root (runUnprivileged).
func TestUnreadableTargetBacksOff(t *testing.T) {
	if runUnprivileged(t) {
		return
	}
	n := newTestNet(t)
	a := n.start(t.TempDir())
	rec, log := newLogRecorder()
	b := n.startLogged(t.TempDir(), log)
	writeTestFile(t, a.root, "f.txt", "v1")
	target := filepath.Join(b.root, "f.txt")
	waitFor(t, "b has f.txt", fileIs(target, []byte("v1")))
	// The file is renamed into place a moment before b records its stat: a
	// chmod in between would be recorded as the synced state (the file is
	// unchanged, so it is never read).
	waitFor(t, "b recorded f.txt", func() bool {
		e, ok := b.d.folders[0].idx.Get("f.txt")
		return ok && !e.Manifest.Deleted && e.Stat.Size == 2
	})
	mustDo(t, os.Chmod(target, 0o000))
	t.Cleanup(func() { os.Chmod(target, 0o644) })
	waitFor(t, "b warned about f.txt", func() bool { return rec.count("not synced: cannot read it") > 0 })

	writeTestFile(t, a.root, "f.txt", "v2")
	writeTestFile(t, a.root, "other.txt", "syncs")
	waitFor(t, "b has other.txt", fileIs(filepath.Join(b.root, "other.txt"), []byte("syncs")))
	waitFor(t, "the fault in b's status", func() bool {
		state, reason := folderError(b)
		return state == localapi.StateError && strings.Contains(reason, "f.txt")
	})
	scans := b.d.Stats().ScansCompleted
	time.Sleep(2 * time.Second)
	if got := b.d.Stats().ScansCompleted - scans; got > 6 {
		t.Errorf("%d scans in 2 s: rescanning the unreadable file in a loop", got)
	}
	if got := rec.count("not synced: cannot read it"); got != 1 {
		t.Errorf("warned %d times about the unreadable file, want once", got)
	}
	mustDo(t, os.Chmod(target, 0o644))
	waitFor(t, "b has v2 once f.txt is readable", fileIs(target, []byte("v2")))
}
