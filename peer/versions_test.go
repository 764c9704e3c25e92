package peer

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/transfer"
	"github.com/dartsync/dartsync/peer/versions"
)

func randBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// memSink is a transfer.Sink in memory.
type memSink struct {
	n   int
	mu  sync.Mutex // WritePiece is called from several goroutines (transfer.Sink)
	got map[int][]byte
}

func (s *memSink) Missing() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for i := range s.n {
		if _, ok := s.got[i]; !ok {
			out = append(out, i)
		}
	}
	return out
}

func (s *memSink) WritePiece(i int, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got[i] = append([]byte(nil), data...)
	return nil
}

// fetchFrom asks src's piece server, over QUIC as a member (from's
// identity), for every piece of m.
func fetchFrom(t *testing.T, from, src *testPeer, m *manifest.Manifest) error {
	t.Helper()
	f := transfer.NewFetcher(from.d.cfg.Identity, transfer.FetchOptions{}, testLog())
	defer f.Close()
	sources := from.d.folders[0].plan.sources([]identity.DeviceID{src.d.self})
	if len(sources) != 1 {
		t.Fatalf("%d sources for the other peer", len(sources))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := f.Fetch(ctx, m, &memSink{n: len(m.Pieces), got: map[int][]byte{}}, sources)
	return err
}

// kept returns the content of the versions of rel kept in root's folder.
func kept(t *testing.T, root, rel string) []string {
	t.Helper()
	l, err := versions.Open(root, versions.Options{}).List(rel)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range l {
		b, err := os.ReadFile(e.File)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// TestRemoteEditAndDeleteAreKept: a file replaced by a remote edit and a
// file deleted remotely both leave their old bytes in versions/ on the
// receiver (not on the editor); the versions are never synced, and the
// piece server does not serve them (it did serve the same bytes while they
// were the current file).
func TestRemoteEditAndDeleteAreKept(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	old := randBytes(t, 40<<10) // three pieces of 16 KiB
	gone := randBytes(t, 20<<10)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(a.root, "docs"), 0o755))
	must(os.WriteFile(filepath.Join(a.root, "docs", "edited.bin"), old, 0o644))
	must(os.WriteFile(filepath.Join(a.root, "gone.bin"), gone, 0o644))
	waitFor(t, "files on b", func() bool {
		return fileIs(filepath.Join(b.root, "docs", "edited.bin"), old)() && fileIs(filepath.Join(b.root, "gone.bin"), gone)()
	})
	oldM, err := manifest.BuildBytes(context.Background(), old, 16<<10)
	must(err)
	oldM.Path = "docs/edited.bin"
	// Control: while it is b's current file, b serves it (once its chunk
	// store has recorded the pieces, which may follow the file by a moment).
	waitFor(t, "b listed as a source", func() bool { return len(a.d.folders[0].plan.sources([]identity.DeviceID{b.d.self})) == 1 })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := fetchFrom(t, a, b, &oldM)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b does not serve its current file: %v", err)
		}
	}

	edit := randBytes(t, 40<<10)
	must(os.WriteFile(filepath.Join(a.root, "docs", "edited.bin"), edit, 0o644))
	must(os.Remove(filepath.Join(a.root, "gone.bin")))
	waitFor(t, "edit on b", fileIs(filepath.Join(b.root, "docs", "edited.bin"), edit))
	waitFor(t, "deletion on b", func() bool {
		_, err := os.Lstat(filepath.Join(b.root, "gone.bin"))
		return errors.Is(err, fs.ErrNotExist)
	})

	if got := kept(t, b.root, "docs/edited.bin"); len(got) != 1 || got[0] != string(old) {
		t.Errorf("b kept %d versions of docs/edited.bin, want the old bytes", len(got))
	}
	if got := kept(t, b.root, "gone.bin"); len(got) != 1 || got[0] != string(gone) {
		t.Errorf("b kept %d versions of gone.bin, want the deleted bytes", len(got))
	}
	// The editor made the changes itself: nothing is kept there.
	if got := kept(t, a.root, ""); len(got) != 0 {
		t.Errorf("a kept %d versions of its own edits", len(got))
	}
	// Never served: b holds the old bytes (in versions) but its piece
	// server has no location for them.
	err = fetchFrom(t, a, b, &oldM)
	if !errors.Is(err, transfer.ErrNoSources) {
		t.Errorf("fetch of the kept version from b = %v, want ErrNoSources", err)
	}
	if _, err := b.d.folders[0].store.ReadPiece(oldM.Pieces[0].Hash, nil); err == nil {
		t.Error("b's chunk store has a location for a piece only in versions/")
	}
	// Never synced: b's index and a's folder know nothing of .dartsync.
	for _, p := range b.d.folders[0].idx.Paths() {
		if strings.HasPrefix(strings.ToLower(p), manifest.StateDir) {
			t.Errorf("b's index holds %q", p)
		}
	}
	if _, err := os.Lstat(filepath.Join(a.root, manifest.StateDir, versions.DirName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a has a versions directory: %v", err)
	}
	// A local edit on b after that syncs as usual (the versions directory
	// does not get in the way), and a's replaced file is kept on a.
	edit2 := randBytes(t, 1000)
	must(os.WriteFile(filepath.Join(b.root, "docs", "edited.bin"), edit2, 0o644))
	waitFor(t, "b's edit on a", fileIs(filepath.Join(a.root, "docs", "edited.bin"), edit2))
	if got := kept(t, a.root, "docs/edited.bin"); len(got) != 1 || got[0] != string(edit) {
		t.Errorf("a kept %d versions of docs/edited.bin, want its own edit", len(got))
	}
}

// TestRemoteReplaceOfFileByDirectoryIsKept: a synced file that a remote
// change turns into a directory is kept on the receiver.
func TestRemoteReplaceOfFileByDirectoryIsKept(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(a.root, "x"), []byte("file x"), 0o644))
	waitFor(t, "x on b", fileIs(filepath.Join(b.root, "x"), []byte("file x")))
	must(os.Remove(filepath.Join(a.root, "x")))
	must(os.MkdirAll(filepath.Join(a.root, "x"), 0o755))
	must(os.WriteFile(filepath.Join(a.root, "x", "inside"), []byte("now a dir"), 0o644))
	waitFor(t, "x is a directory on b", fileIs(filepath.Join(b.root, "x", "inside"), []byte("now a dir")))
	if got := kept(t, b.root, "x"); len(got) != 1 || got[0] != "file x" {
		t.Errorf("b kept %q, want the file x", got)
	}
}

// TestKeepVersionsDisabled: with KeepVersions negative nothing is kept.
func TestKeepVersionsDisabled(t *testing.T) {
	n := newTestNet(t)
	a := n.start(t.TempDir())
	b := n.startWith(t.TempDir(), func(c *Config) { c.KeepVersions = -1 })
	if err := os.WriteFile(filepath.Join(a.root, "f"), []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "f on b", fileIs(filepath.Join(b.root, "f"), []byte("one")))
	if err := os.WriteFile(filepath.Join(a.root, "f"), []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "edit on b", fileIs(filepath.Join(b.root, "f"), []byte("two")))
	if err := os.Remove(filepath.Join(a.root, "f")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "deletion on b", func() bool {
		_, err := os.Lstat(filepath.Join(b.root, "f"))
		return errors.Is(err, fs.ErrNotExist)
	})
	if _, err := os.Lstat(versions.Dir(b.root)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("versions kept with KeepVersions < 0: %v", err)
	}
}

// TestPruneAtStart: the daemon's prune loop runs when it starts: a version
// kept longer ago than KeepVersions is removed, a recent one stays.
func TestPruneAtStart(t *testing.T) {
	n := newTestNet(t)
	root := t.TempDir()
	vdir := versions.Dir(root)
	old := filepath.Join(vdir, "sub", "old~20000101-000000.txt")
	recent := filepath.Join(vdir, "recent~"+time.Now().UTC().Format(versions.StampLayout)+".txt")
	for _, p := range []string{old, recent} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("kept"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n.startWith(root, func(c *Config) { c.KeepVersions = 48 * time.Hour })
	waitFor(t, "old version pruned", func() bool {
		_, err := os.Lstat(filepath.Join(vdir, "sub"))
		return errors.Is(err, fs.ErrNotExist)
	})
	if _, err := os.Lstat(recent); err != nil {
		t.Fatalf("recent version pruned: %v", err)
	}
}
