package peer

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dartsync/dartsync/internal/disktest"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/localapi"
)

// tmpfsFolder mounts a tmpfs of size bytes (disktest.Mount): unmounted
// in Cleanup, after the peers that use it stopped.
func tmpfsFolder(t *testing.T, size int64) string { return disktest.Mount(t, size) }

// resizeTmpfs remounts the tmpfs at dir with size bytes (the same mount).
func resizeTmpfs(t *testing.T, dir string, size int64) { disktest.Resize(t, dir, size) }

// startInside starts a peer on root whose state (index, chunk store,
// partials) is root/.dartsync, on the folder's file system, as it is by
// default; rec records its log.
func (n *testNet) startInside(root string, tweak ...func(*Config)) (*testPeer, *logRecorder) {
	n.t.Helper()
	rec, log := newLogRecorder()
	id, err := identity.LoadOrCreate(n.t.TempDir())
	if err != nil {
		n.t.Fatal(err)
	}
	cfg := Config{
		Root: root, StateDir: filepath.Join(root, manifest.StateDir), Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Secret: n.token.Secret[:],
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		FolderPoll: 50 * time.Millisecond, Log: log,
		StatsFile: filepath.Join(root, manifest.StateDir, "stats.json"), StatsEvery: 20 * time.Millisecond,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	return n.run(cfg), rec
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// folderError returns the state and reason of p's (only) folder.
func folderError(p *testPeer) (state, reason string) {
	fs := p.d.Status().Folders
	if len(fs) != 1 {
		return "", ""
	}
	return fs[0].State, fs[0].Reason
}

// errorAbout reports whether p's Status lists a recent error about path
// whose message holds text.
func errorAbout(p *testPeer, path, text string) bool {
	for _, e := range p.d.Status().Errors {
		if e.Path == path && strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

// TestDiskFullKeepsOldFileAndRetries: a peer whose folder's disk cannot
// hold a new version keeps the old file, leaves nothing in the folder,
// shows the error (Status, log) once, retries with backoff (not at every
// round), still syncs and serves other files, and gets the version once
// the disk has room.
func TestDiskFullKeepsOldFileAndRetries(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b, rec := n.startInside(tmpfsFolder(t, 4<<20))
	v1 := randomBytes(256<<10, 1)
	writeTestFile(t, a.root, "small.txt", "hello")
	replaceFile(t, filepath.Join(a.root, "big.bin"), v1)
	waitFor(t, "b has v1", fileIs(filepath.Join(b.root, "big.bin"), v1))
	waitFor(t, "b has small.txt", fileIs(filepath.Join(b.root, "small.txt"), []byte("hello")))

	v2 := randomBytes(6<<20, 2) // more than the whole disk
	replaceFile(t, filepath.Join(a.root, "big.bin"), v2)
	waitFor(t, "the error in b's status", func() bool {
		state, reason := folderError(b)
		return state == localapi.StateError && strings.Contains(reason, "disk full") && strings.Contains(reason, "big.bin") &&
			errorAbout(b, "big.bin", "disk full")
	})
	// Other files still sync while big.bin cannot.
	writeTestFile(t, a.root, "other.txt", "still syncing")
	waitFor(t, "b has other.txt", fileIs(filepath.Join(b.root, "other.txt"), []byte("still syncing")))
	want := map[string]string{"small.txt": "hello", "big.bin": string(v1), "other.txt": "still syncing"}
	if got := treeOf(t, b.root); !maps.Equal(got, want) {
		t.Fatalf("b's folder: old version or stray files: %v", slices.Sorted(maps.Keys(got)))
	}

	// Retries are spaced: a round every Retry (100 ms) would make about
	// 20 attempts in the window; the backoff makes a few.
	waitFor(t, "a few retries", func() bool { return b.d.folderList()[0].state.faults.attempts("big.bin") >= 3 })
	before := b.d.folderList()[0].state.faults.attempts("big.bin")
	time.Sleep(2 * time.Second)
	if got := b.d.folderList()[0].state.faults.attempts("big.bin") - before; got > 8 {
		t.Errorf("%d attempts to write big.bin in 2 s: not backing off", got)
	}
	if got := rec.count("cannot write: disk full"); got != 1 {
		t.Errorf("disk full warned %d times, want once", got)
	}
	if got, _ := os.ReadFile(filepath.Join(b.root, "big.bin")); !bytes.Equal(got, v1) {
		t.Fatal("the old version of big.bin was not kept intact")
	}

	// b serves what it has: with a gone, c gets the other files from b.
	a.stop()
	sent := b.d.Stats().BytesSent
	c := n.start(t.TempDir())
	waitFor(t, "c has other.txt from b", fileIs(filepath.Join(c.root, "other.txt"), []byte("still syncing")))
	waitFor(t, "c has small.txt from b", fileIs(filepath.Join(c.root, "small.txt"), []byte("hello")))
	if b.d.Stats().BytesSent == sent {
		t.Error("b served nothing")
	}

	// Room again: a is back, the disk grows, big.bin arrives.
	a = n.restart(t, a)
	resizeTmpfs(t, b.root, 16<<20)
	waitFor(t, "b has v2", fileIs(filepath.Join(b.root, "big.bin"), v2))
	waitFor(t, "b's error cleared", func() bool { state, _ := folderError(b); return state != localapi.StateError })
	if rec.count("written after an earlier error") == 0 {
		t.Error("no log line for the recovery")
	}
}

// TestDiskFullDownloadsDoNotOvercommit: two new files that each fit on the
// disk, but not together, are announced at once. The downloads book their
// room, so one arrives and the other waits with a disk-full error (two
// half-done partials filling the disk would leave neither able to finish);
// with room, the second arrives too.
func TestDiskFullDownloadsDoNotOvercommit(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b, _ := n.startInside(tmpfsFolder(t, 4<<20))
	one, two := randomBytes(2<<20, 3), randomBytes(2<<20, 4)
	writeTestFile(t, a.root, "sub/.keep", "")
	replaceFile(t, filepath.Join(a.root, "sub", "one.bin"), one)
	replaceFile(t, filepath.Join(a.root, "sub", "two.bin"), two)
	oneOK, twoOK := fileIs(filepath.Join(b.root, "sub", "one.bin"), one), fileIs(filepath.Join(b.root, "sub", "two.bin"), two)
	waitFor(t, "one of the files on b", func() bool { return oneOK() || twoOK() })
	waitFor(t, "the other one's error in b's status", func() bool {
		state, reason := folderError(b)
		return state == localapi.StateError && strings.Contains(reason, "disk full")
	})
	if oneOK() && twoOK() {
		t.Fatal("both files fit: the disk is too large for the test")
	}
	resizeTmpfs(t, b.root, 16<<20)
	waitFor(t, "both files on b", func() bool { return oneOK() && twoOK() })
}

// fillDisk writes a file at p until its disk is full and returns p.
func fillDisk(t *testing.T, p string) {
	t.Helper()
	f, err := os.Create(p)
	mustDo(t, err)
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, unix.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for {
		if _, err := f.Write(buf[:512]); err != nil {
			break
		}
	}
}

// TestDiskFilledByOthersRecovers: the disk of b's folder (and state) is
// filled by another program, so that nothing (file, partial, index) can be
// written. b reports it, keeps its files, and catches up once the filler
// is deleted.
func TestDiskFilledByOthersRecovers(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b, rec := n.startInside(tmpfsFolder(t, 4<<20))
	writeTestFile(t, a.root, "first.txt", "one")
	waitFor(t, "b has first.txt", fileIs(filepath.Join(b.root, "first.txt"), []byte("one")))
	filler := filepath.Join(b.root, manifest.StateDir, "filler")
	fillDisk(t, filler)
	for i := range 5 {
		writeTestFile(t, a.root, fmt.Sprintf("new%d.txt", i), strings.Repeat("x", 100<<10))
	}
	waitFor(t, "the error in b's status", func() bool {
		state, _ := folderError(b)
		return state == localapi.StateError
	})
	// The failing rounds are spaced: one every Retry (100 ms) would make
	// about 20 in the window.
	before := rec.count("pull")
	time.Sleep(2 * time.Second)
	if got := rec.count("pull") - before; got > 10 {
		t.Errorf("%d failed pull rounds in 2 s: not backing off", got)
	}

	if got := treeOf(t, b.root); !maps.Equal(got, map[string]string{"first.txt": "one"}) {
		t.Fatalf("b's folder changed while its disk was full: %v", slices.Sorted(maps.Keys(got)))
	}
	mustDo(t, os.Remove(filler))
	for i := range 5 {
		waitFor(t, "b has the new files", fileIs(filepath.Join(b.root, fmt.Sprintf("new%d.txt", i)), []byte(strings.Repeat("x", 100<<10))))
	}
	waitFor(t, "b's error cleared", func() bool { state, _ := folderError(b); return state != localapi.StateError })
}

// TestNestedMountTarget: a directory of b's folder is another mount (here
// a read-only bind mount, which root cannot write either), where no file
// can be renamed into place from the state directory (EXDEV, even after the
// copy into DIR/.dartsync/tmp): the new file for it is reported once and
// retried with backoff (it was a hot loop of copies), the retries find the
// directory read-only before copying anything, nothing is left
// there, the rest syncs, and once the mount is gone the file arrives.
func TestNestedMountTarget(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a read-only bind mount needs root")
	}
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b, rec := n.startInside(t.TempDir())
	writeTestFile(t, a.root, "ro/old.txt", "v1")
	ro := filepath.Join(b.root, "ro")
	waitFor(t, "b has ro/old.txt", fileIs(filepath.Join(ro, "old.txt"), []byte("v1")))
	if err := unix.Mount(ro, ro, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	mounted := true
	unmount := func() {
		if mounted {
			mustDo(t, unix.Unmount(ro, unix.MNT_DETACH))
			mounted = false
		}
	}
	t.Cleanup(unmount)
	mustDo(t, unix.Mount("", ro, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""))

	writeTestFile(t, a.root, "ro/new.txt", "new")
	waitFor(t, "the fault in b's status", func() bool {
		state, reason := folderError(b)
		return state == localapi.StateError && strings.Contains(reason, ": ro/new.txt") &&
			errorAbout(b, "ro/new.txt", causeOtherMount)
	})
	writeTestFile(t, a.root, "other.txt", "syncs")
	waitFor(t, "b has other.txt", fileIs(filepath.Join(b.root, "other.txt"), []byte("syncs")))
	want := map[string]string{"ro": "dir", "ro/old.txt": "v1", "other.txt": "syncs"}
	if got := treeOf(t, b.root); !maps.Equal(got, want) {
		t.Fatalf("b's folder = %v, want %v", got, want)
	}
	// Once for the failed rename, and once more when a retry finds the
	// directory read-only before it copies anything.
	if got := rec.count("cannot write: " + causeOtherMount); got != 1 {
		t.Errorf("warned %d times, want once", got)
	}
	if got := rec.count("cannot write: "); got > 2 {
		t.Errorf("warned %d times, want at most once per cause", got)
	}
	if got := b.d.folderList()[0].state.faults.attempts("ro/new.txt"); got > 10 {
		t.Errorf("%d attempts: not backing off", got)
	}
	unmount()
	waitFor(t, "b has ro/new.txt", fileIs(filepath.Join(ro, "new.txt"), []byte("new")))
}

// TestDiskFullFolderOtherThanState: b's state (and downloads) is on
// another file system than its full folder, so the version downloads but
// its commit (a copy into DIR/.dartsync/tmp, then a rename) fails: the old
// file stays, no temporary file is left, the error shows, and once the
// folder's disk is larger the version is put in place at once.
func TestDiskFullFolderOtherThanState(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	rec, log := newLogRecorder()
	b := n.startWith(tmpfsFolder(t, 2<<20), func(c *Config) { c.Log, c.FolderPoll = log, 50*time.Millisecond })
	v1 := []byte("small first version")
	replaceFile(t, filepath.Join(a.root, "big.bin"), v1)
	waitFor(t, "b has v1", fileIs(filepath.Join(b.root, "big.bin"), v1))
	v2 := randomBytes(3<<20, 5)
	replaceFile(t, filepath.Join(a.root, "big.bin"), v2)
	waitFor(t, "the error in b's status", func() bool {
		state, reason := folderError(b)
		return state == localapi.StateError && strings.Contains(reason, "disk full: big.bin")
	})
	if got, _ := os.ReadFile(filepath.Join(b.root, "big.bin")); !bytes.Equal(got, v1) {
		t.Fatal("the old version was not kept")
	}
	if tmp, _ := filepath.Glob(filepath.Join(b.root, manifest.StateDir, "tmp", "*")); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	// Long past the first retries: only the disk growing brings it now.
	waitFor(t, "a few retries", func() bool { return b.d.folderList()[0].state.faults.attempts("big.bin") >= 4 })
	resizeTmpfs(t, b.root, 16<<20)
	waitFor(t, "b has v2", fileIs(filepath.Join(b.root, "big.bin"), v2))
	if rec.count("the disk has room again") == 0 {
		t.Error("not retried for the room")
	}
}
