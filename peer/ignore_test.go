package peer

import (
	"context"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/peer/ignore"
)

// reportedPaths is a slog.Handler that keeps the path of every "local
// change" a daemon logs: what it reported to the tracker.
type reportedPaths struct {
	mu    *sync.Mutex
	paths *[]string
}

func (r reportedPaths) Enabled(context.Context, slog.Level) bool { return true }
func (r reportedPaths) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r reportedPaths) WithGroup(string) slog.Handler            { return r }
func (r reportedPaths) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "local change" {
		return nil
	}
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "path" {
			r.mu.Lock()
			*r.paths = append(*r.paths, a.Value.String())
			r.mu.Unlock()
		}
		return true
	})
	return nil
}

func (r reportedPaths) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(slices.Values(*r.paths))
}

// startIgnoring starts a daemon on root like start, with or without the
// default ignore patterns (and tweaks to its Config), and returns what it
// reports.
func (n *testNet) startIgnoring(t *testing.T, root string, noDefaults bool, tweak ...func(*Config)) (*testPeer, reportedPaths) {
	t.Helper()
	rep := reportedPaths{mu: new(sync.Mutex), paths: new([]string)}
	state := filepath.Join(t.TempDir(), "state")
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Root: root, StateDir: state, Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Secret: append([]byte(nil), n.token.Secret[:]...),
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		Log: slog.New(slog.NewMultiHandler(rep, testLog().Handler())), NoDefaultIgnores: noDefaults,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &testPeer{d: d, root: root, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- d.Run(ctx) }()
	t.Cleanup(p.stop)
	p.registered(t)
	return p, rep
}

// synced writes a new file on from and waits until to has it: everything
// from reported before it has been pulled by to.
func synced(t *testing.T, from, to *testPeer, rel string) {
	t.Helper()
	writeTestFile(t, from.root, rel, rel+" marker\n")
	waitFor(t, rel+" on the other peer", fileIs(filepath.Join(to.root, filepath.FromSlash(rel)), []byte(rel+" marker\n")))
}

// TestIgnoredFilesStayLocal: files the ignore file or the defaults name are
// never reported, so never reach the other peer, and the other peer's own
// ignored files stay as they are.
func TestIgnoredFilesStayLocal(t *testing.T) {
	n := newTestNet(t)
	aRoot := t.TempDir()
	rules := "# build output\n*.log\nbuild/\n!keep.log\n"
	writeTestFile(t, aRoot, ignore.FileName, rules)
	for _, p := range []string{"x.log", "sub/y.log", "build/out.bin", "build/sub/z.txt", "notes.txt.swp", ".DS_Store", "sub/keep.log", "doc.txt"} {
		writeTestFile(t, aRoot, p, "a's "+p)
	}
	a, aRep := n.startIgnoring(t, aRoot, false)
	bRoot := t.TempDir()
	writeTestFile(t, bRoot, "x.log", "b's log")
	writeTestFile(t, bRoot, ignore.FileName, rules) // b had the rules before it first ran
	b, bRep := n.startIgnoring(t, bRoot, false)
	synced(t, a, b, "marker.txt")

	want := []string{ignore.FileName, "doc.txt", "marker.txt", "sub", "sub/keep.log"}
	if got := aRep.list(); !slices.Equal(got, want) {
		t.Errorf("a reported %q, want %q", got, want)
	}
	if got := bRep.list(); len(got) > 1 || (len(got) == 1 && got[0] != ignore.FileName) {
		t.Errorf("b reported %q, want nothing but the ignore file", got)
	}
	wantB := map[string]string{
		ignore.FileName: rules, "doc.txt": "a's doc.txt", "marker.txt": "marker.txt marker\n",
		"sub": "dir", "sub/keep.log": "a's sub/keep.log", "x.log": "b's log",
	}
	if got := treeOf(t, b.root); !maps.Equal(got, wantB) {
		t.Errorf("b's folder %v, want %v", got, wantB)
	}
}

// TestRemoteVersionOfIgnoredPathNotFetched: b ignores *.tmp (a default), a
// syncs it (--no-default-ignores). a's new version, its deletion, and the
// deletion of a directory holding b's ignored file leave b's files alone.
func TestRemoteVersionOfIgnoredPathNotFetched(t *testing.T) {
	n := newTestNet(t)
	a, _ := n.startIgnoring(t, t.TempDir(), true)
	writeTestFile(t, a.root, "d/a.txt", "synced")
	bRoot := t.TempDir()
	writeTestFile(t, bRoot, "x.tmp", "b's own")
	b, bRep := n.startIgnoring(t, bRoot, false)
	waitFor(t, "d/a.txt on b", fileIs(filepath.Join(b.root, "d", "a.txt"), []byte("synced")))
	writeTestFile(t, b.root, "d/y.tmp", "b's draft")

	writeTestFile(t, a.root, "x.tmp", "a's version")
	writeTestFile(t, a.root, "d/y.tmp", "a's draft")
	synced(t, a, b, "m1.txt")
	for p, want := range map[string]string{"x.tmp": "b's own", "d/y.tmp": "b's draft"} {
		if got := readFile(t, b.root, p); got != want {
			t.Errorf("b's %s = %q after a's update, want %q", p, got, want)
		}
	}

	must(t, os.Remove(filepath.Join(a.root, "x.tmp")))
	must(t, os.RemoveAll(filepath.Join(a.root, "d")))
	synced(t, a, b, "m2.txt")
	waitFor(t, "d/a.txt deleted on b", func() bool {
		_, err := os.Lstat(filepath.Join(b.root, "d", "a.txt"))
		return os.IsNotExist(err)
	})
	synced(t, a, b, "m3.txt")
	for p, want := range map[string]string{"x.tmp": "b's own", "d/y.tmp": "b's draft"} {
		if got := readFile(t, b.root, p); got != want {
			t.Errorf("b's %s = %q after a's deletion, want %q", p, got, want)
		}
	}
	// b kept d for its ignored file, and reports nothing: a does not get
	// the directory back.
	if got := bRep.list(); len(got) != 0 {
		t.Errorf("b reported %q", got)
	}
	if fileExists(filepath.Join(a.root, "d")) {
		t.Error("the directory b kept came back on a")
	}
}

// TestIgnoreFileWrittenWithItsFiles: an ignore file written in the same
// moment as the files it names (within the debounce time, long here so
// that a busy machine cannot stretch the moment past it) keeps them local.
func TestIgnoreFileWrittenWithItsFiles(t *testing.T) {
	n := newTestNet(t)
	// Files the OS says are complete (closed after writing) are reported
	// without waiting for the debounce: the window holds for the others.
	a, aRep := n.startIgnoring(t, t.TempDir(), false, func(c *Config) { c.Debounce, c.Settle = 500*time.Millisecond, -1 })
	b, _ := n.startIgnoring(t, t.TempDir(), false)
	writeTestFile(t, a.root, "secret/key.pem", "private")
	writeTestFile(t, a.root, "public.txt", "hello")
	writeTestFile(t, a.root, ignore.FileName, "secret/\n")
	synced(t, a, b, "marker.txt")
	want := []string{ignore.FileName, "marker.txt", "public.txt"}
	if got := aRep.list(); !slices.Equal(got, want) {
		t.Errorf("a reported %q, want %q", got, want)
	}
	if _, err := os.Lstat(filepath.Join(b.root, "secret")); !os.IsNotExist(err) {
		t.Errorf("secret reached b (%v)", err)
	}
}

// TestIgnoreFileEditTakesEffect: editing the ignore file at run time
// un-ignores a file (it syncs), and a path that becomes ignored stops
// syncing: its local deletion is not reported.
func TestIgnoreFileEditTakesEffect(t *testing.T) {
	n := newTestNet(t)
	aRoot := t.TempDir()
	writeTestFile(t, aRoot, ignore.FileName, "*.log\n")
	writeTestFile(t, aRoot, "x.log", "log line")
	writeTestFile(t, aRoot, "y.dat", "data")
	a, aRep := n.startIgnoring(t, aRoot, false)
	b, _ := n.startIgnoring(t, t.TempDir(), false)
	synced(t, a, b, "m1.txt")
	if _, err := os.Lstat(filepath.Join(b.root, "x.log")); !os.IsNotExist(err) {
		t.Fatalf("x.log reached b while ignored (%v)", err)
	}

	writeTestFile(t, a.root, ignore.FileName, "y.dat\n")
	waitFor(t, "x.log on b once un-ignored", fileIs(filepath.Join(b.root, "x.log"), []byte("log line")))
	waitFor(t, "the new ignore file on b", fileIs(filepath.Join(b.root, ignore.FileName), []byte("y.dat\n")))

	must(t, os.Remove(filepath.Join(a.root, "y.dat")))
	synced(t, a, b, "m2.txt")
	if got := readFile(t, b.root, "y.dat"); got != "data" {
		t.Errorf("b's y.dat = %q after a deleted its ignored copy, want it kept", got)
	}
	// y.dat once (its creation, not the deletion); the ignore file at
	// least twice (each version).
	got := aRep.list()
	if !slices.Equal(slices.Compact(slices.Clone(got)), []string{ignore.FileName, "m1.txt", "m2.txt", "x.log", "y.dat"}) ||
		countOf(got, "y.dat") != 1 || countOf(got, ignore.FileName) < 2 {
		t.Errorf("a reported %q, want y.dat once, the ignore file twice or more, m1.txt, m2.txt, x.log", got)
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

func readFile(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUnignoredDirectoryWatched: ignored directories are not watched; once
// the ignore file no longer names one, it is scanned and watched (the
// tests run without periodic rescans, so only the watcher can see the
// later file).
func TestUnignoredDirectoryWatched(t *testing.T) {
	n := newTestNet(t)
	aRoot := t.TempDir()
	writeTestFile(t, aRoot, ignore.FileName, "build/\n")
	writeTestFile(t, aRoot, "build/a.txt", "first")
	a, _ := n.startIgnoring(t, aRoot, false)
	b, _ := n.startIgnoring(t, t.TempDir(), false)
	synced(t, a, b, "m1.txt")
	writeTestFile(t, a.root, ignore.FileName, "# nothing ignored\n")
	waitFor(t, "build/a.txt on b", fileIs(filepath.Join(b.root, "build", "a.txt"), []byte("first")))
	writeTestFile(t, a.root, "build/sub/b.txt", "later")
	waitFor(t, "build/sub/b.txt on b", fileIs(filepath.Join(b.root, "build", "sub", "b.txt"), []byte("later")))
}

// TestIgnoreFileArrivingWithItsFiles: a peer that catches up after a
// while gets a new ignore file together with a file another peer reported
// before it had the rules; the ignore file is applied first, so the file
// it names is not written.
func TestIgnoreFileArrivingWithItsFiles(t *testing.T) {
	n := newTestNet(t)
	a, _ := n.startIgnoring(t, t.TempDir(), false)
	b, _ := n.startIgnoring(t, t.TempDir(), false)
	c, _ := n.startIgnoring(t, t.TempDir(), false)
	synced(t, a, b, "m1.txt")
	b.stop()
	writeTestFile(t, a.root, "x.log", "reported before the rules")
	waitFor(t, "x.log on c", fileIs(filepath.Join(c.root, "x.log"), []byte("reported before the rules")))
	writeTestFile(t, a.root, ignore.FileName, "*.log\n")
	waitFor(t, "the ignore file on c", fileIs(filepath.Join(c.root, ignore.FileName), []byte("*.log\n")))

	b = n.restart(t, b)
	synced(t, a, b, "m2.txt")
	waitFor(t, "the ignore file on b", fileIs(filepath.Join(b.root, ignore.FileName), []byte("*.log\n")))
	if fileExists(filepath.Join(b.root, "x.log")) {
		t.Error("x.log written on b, which had its ignore file in the same pull")
	}
}
