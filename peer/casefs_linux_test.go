package peer

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// caseInsensitiveDir returns an empty directory on a real case-insensitive,
// case-preserving file system: a fresh FAT image mounted with fusefat,
// unmounted when the test ends. It skips the test where that cannot be
// done (not root, no /dev/fuse, no mkfs.vfat, fusefat or fusermount).
func caseInsensitiveDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a case-insensitive file system needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE: %v", err)
	}
	for _, bin := range []string{"mkfs.vfat", "fusefat", "fusermount"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("no %s (Debian packages dosfstools, fusefat, fuse): %v", bin, err)
		}
	}
	img := filepath.Join(t.TempDir(), "fat.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.vfat", "-F", "32", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.vfat: %v: %s", err, out)
	}
	mnt := t.TempDir()
	// fusefat returns once the file system is mounted; its daemon ends
	// when it is unmounted.
	if out, err := exec.Command("fusefat", "-o", "rw+", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("fusefat: %v: %s", err, out)
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, err := exec.Command("fusermount", "-u", mnt).CombinedOutput()
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("unmount %s: %v: %s", mnt, err, out)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	dir := filepath.Join(mnt, "folder")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Probe"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "PROBE")); err != nil {
		t.Skipf("the mounted file system is not case-insensitive: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "Probe")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestJudgeNameOnCaseInsensitiveFS: the name decisions on a real
// case-insensitive file system, where Lstat("foo") finds "Foo".
func TestJudgeNameOnCaseInsensitiveFS(t *testing.T) {
	dir := caseInsensitiveDir(t)
	if err := os.MkdirAll(filepath.Join(dir, "Docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Docs", "ReadMe.md"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := diskNames{dir}
	none := func(string) bool { return false }
	docs := func(p string) bool { return p == "Docs" }
	tests := []struct {
		rel      string
		tracked  func(string) bool
		want     nameVerdict
		wantDisk string
	}{
		{"Docs/ReadMe.md", none, nameExact, ""},
		{"Docs/readme.md", none, nameRenamed, "Docs/ReadMe.md"},
		{"docs/ReadMe.md", none, nameRenamed, "Docs"},
		{"docs/ReadMe.md", docs, nameClash, "Docs"},
		{"docs/new.txt", docs, nameClash, "Docs"},
		{"other", none, nameExact, ""},
	}
	for _, tt := range tests {
		if v, _, disk := judgeName(tt.rel, fs, tt.tracked); v != tt.want || disk != tt.wantDisk {
			t.Errorf("judgeName(%q) = %d %q, want %d %q", tt.rel, v, disk, tt.want, tt.wantDisk)
		}
	}
	if got, ok := diskSpelling("DOCS/README.MD", fs); !ok || got != "Docs/ReadMe.md" {
		t.Errorf("diskSpelling = %q %v", got, ok)
	}
}

// TestCaseOnlyRenameSendsTombstone (issue item 7d): on a case-insensitive
// file system, foo renamed to Foo still resolves as foo; the peer must
// report the rename, so the other peer ends with Foo only.
func TestCaseOnlyRenameSendsTombstone(t *testing.T) {
	root := caseInsensitiveDir(t)
	n := newTestNet(t)
	a := n.start(root)
	b := n.start(t.TempDir())
	data := []byte("one file, renamed in case only")
	if err := os.WriteFile(filepath.Join(a.root, "foo.txt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "foo.txt on b", fileIs(filepath.Join(b.root, "foo.txt"), data))
	if err := os.Rename(filepath.Join(a.root, "foo.txt"), filepath.Join(a.root, "Foo.txt")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Foo.txt on b", fileIs(filepath.Join(b.root, "Foo.txt"), data))
	waitFor(t, "foo.txt gone from b", func() bool {
		_, err := os.Lstat(filepath.Join(b.root, "foo.txt"))
		return os.IsNotExist(err)
	})
	names, _ := listNames(a.root)
	names = slices.DeleteFunc(names, func(n string) bool { return n == manifest.StateDir }) // the marker's
	if len(names) != 1 || names[0] != "Foo.txt" {
		t.Errorf("a lists %q, want [Foo.txt]", names)
	}
}

// clashFixture is a daemon without network whose folder is root, logging
// to the returned buffer.
func clashFixture(t *testing.T, root string) (*folder, *syncBuffer) {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state")
	idx, err := index.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := chunkstore.Open(root, state, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return testFolder(Config{Root: root, Log: log}, idx, store), logs
}

// TestNameClashParked (issue item 7e): the tracker has a.txt and A.txt,
// one local file here. a.txt is synced; the want of A.txt is parked: not
// fetched, not applied over a.txt, not pending (no retry), not an edit (no
// rescan), logged once naming both paths; and it is applied once a.txt is
// gone.
func TestNameClashParked(t *testing.T) {
	root := caseInsensitiveDir(t)
	d, logs := clashFixture(t, root)
	mine := []byte("the synced a.txt")
	syncedFile(t, d, "a.txt", mine)
	m := version(t, "A.txt", []byte("another file, A.txt"), time.Now())
	w := index.Want{Manifest: m, Seq: 1}
	if err := d.idx.Update(index.Batch{Wants: []index.Want{w}, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	r := &round{p: d.pull}
	for range 3 {
		part, _, o := d.pull.fetch(context.Background(), w)
		if part != nil || o != parked {
			t.Fatalf("fetch of the clashing want: outcome %d, want parked", o)
		}
		r.note(w, o)
	}
	if !d.state.beginApply(m.Path) {
		t.Fatal("beginApply")
	}
	if o := d.apply.readyTarget(&m, filepath.Join(root, "A.txt")); o != parked {
		t.Errorf("readyTarget of the clashing want = %d, want parked", o)
	}
	d.state.endApply(m.Path)
	if r.pending != 0 || r.sawEdit || !r.parked {
		t.Errorf("round after parking: pending %d, sawEdit %v, parked %v", r.pending, r.sawEdit, r.parked)
	}
	if !fileIs(filepath.Join(root, "a.txt"), mine)() {
		t.Error("the synced file was changed")
	}
	if names, _ := listNames(root); !slices.Contains(names, "a.txt") || slices.Contains(names, "A.txt") {
		t.Errorf("folder lists %q, want a.txt", names)
	}
	if got := strings.Count(logs.String(), "name clash"); got != 1 || !strings.Contains(logs.String(), "path=A.txt synced_as=a.txt") {
		t.Errorf("want one warning naming both paths, got %d:\n%s", got, logs)
	}
	if _, ok := d.idx.WantID("A.txt"); !ok {
		t.Error("the parked want was dropped")
	}

	// a.txt deleted (a remote tombstone applied): the clash is gone.
	if err := os.Remove(filepath.Join(root, "a.txt")); err != nil {
		t.Fatal(err)
	}
	tomb := manifest.NewTombstone("a.txt", manifest.KindFile, manifest.ID{}, time.Now().UnixNano())
	d.idx.Stage(index.Entry{Manifest: tomb})
	if part, _, o := d.pull.fetch(context.Background(), w); o == parked {
		t.Errorf("still parked once the clash is gone")
	} else if part != nil {
		part.Close()
	}
}

// TestRemoteCaseOnlyRenameMoves: a remote foo.txt -> Foo.txt arrives as a
// tombstone and a new path of the same version; on a case-insensitive file
// system the new path resolves to the old file, and the move renames it.
func TestRemoteCaseOnlyRenameMoves(t *testing.T) {
	root := caseInsensitiveDir(t)
	d, _ := clashFixture(t, root)
	data := []byte("renamed in case only")
	syncedFile(t, d, "foo.txt", data)
	old, _ := d.idx.Get("foo.txt")
	add := old.Manifest
	add.Path = "Foo.txt"
	tomb := manifest.NewTombstone("foo.txt", manifest.KindFile, old.Manifest.ID, time.Now().UnixNano())
	tomb.Base = old.Manifest.ID
	ws := []index.Want{{Manifest: add, Seq: 2}, {Manifest: tomb, Seq: 2}}
	if err := d.idx.Update(index.Batch{Wants: ws, Seq: 2}); err != nil {
		t.Fatal(err)
	}
	r := &round{p: d.pull}
	moved := make(map[int]bool)
	d.pull.moves(r, ws[:1], ws[1:], moved)
	if !moved[0] {
		t.Fatal("not moved")
	}
	if names, _ := listNames(root); !slices.Contains(names, "Foo.txt") || slices.Contains(names, "foo.txt") {
		t.Errorf("folder lists %q, want Foo.txt", names)
	}
	if !fileIs(filepath.Join(root, "Foo.txt"), data)() {
		t.Error("content changed")
	}
	if e, ok := d.idx.Get("Foo.txt"); !ok || e.Manifest.ID != add.ID {
		t.Errorf("Foo.txt not indexed: %+v", e)
	}
	if e, _ := d.idx.Get("foo.txt"); !e.Manifest.Deleted {
		t.Errorf("foo.txt not a tombstone: %+v", e)
	}
}
