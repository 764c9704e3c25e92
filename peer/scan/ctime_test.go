package scan

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// haveCtime: this platform's Stat carries the inode change time.
var haveCtime = func() bool {
	f, err := os.CreateTemp("", "ctime")
	if err != nil {
		return false
	}
	defer os.Remove(f.Name())
	f.Close()
	fi, err := os.Lstat(f.Name())
	return err == nil && StatOf(fi).Ctime != 0
}()

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestScanSameSizeRewriteRestoredMtime: a same-size rewrite in place that
// sets the old mtime back (cp -p, rsync -t --inplace, touch -r) keeps
// size, mtime and inode; only the ctime tells. The rescan hashes the file
// and finds the new contents. A chmod alone is hashed once too, and yields
// the same file ID.
func TestScanSameSizeRewriteRestoredMtime(t *testing.T) {
	if !haveCtime {
		t.Skip("no inode change time on this platform")
	}
	root := t.TempDir()
	before, after := []byte("version one, 32 bytes of text.."), []byte("VERSION TWO, 32 bytes of text..")
	write(t, root, "doc.txt", before, 0o644)
	write(t, root, "mode.txt", before, 0o644)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, p := range []string{"doc.txt", "mode.txt"} {
		if err := os.Chtimes(filepath.Join(root, p), old, old); err != nil {
			t.Fatal(err)
		}
	}
	first, err := Scan(context.Background(), root, Options{PieceSize: ps})
	if err != nil {
		t.Fatal(err)
	}
	var calls int
	prev := prevOf(first, &calls)

	p := filepath.Join(root, "doc.txt")
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(after, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "mode.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	st0, st1 := first.find("doc.txt").Stat, statOfPath(t, p)
	if st0.Size != st1.Size || st0.ModTime != st1.ModTime || st0.Inode != st1.Inode {
		t.Fatalf("the rewrite changed more than the ctime: %+v -> %+v", st0, st1)
	}

	res, err := Scan(context.Background(), root, Options{PieceSize: ps, Prev: prev})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		wantID []byte
	}{
		{"doc.txt", after},
		{"mode.txt", before},
	}
	for _, tt := range tests {
		e := res.find(tt.path)
		if e == nil {
			t.Fatalf("%s missing", tt.path)
		}
		if want := reference("", tt.wantID, ps).ID; !e.Hashed || e.Manifest.ID != want {
			t.Errorf("%s: hashed=%v id %s, want hashed id %s", tt.path, e.Hashed, e.Manifest.ID.Short(), want.Short())
		}
		if e.Stat.Ctime == first.find(tt.path).Stat.Ctime {
			t.Errorf("%s: ctime did not move", tt.path)
		}
	}
	// Once recorded with the new ctime, nothing is hashed again.
	again, err := Scan(context.Background(), root, Options{PieceSize: ps, Prev: prevOf(res, &calls)})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range again.Entries {
		if e.Hashed {
			t.Errorf("%s hashed again although unchanged since", e.Manifest.Path)
		}
	}
	// A Prev with an unknown ctime (an index from before ctimes were kept)
	// is hashed once.
	unknown := func(path string) (manifest.Manifest, Stat, bool) {
		e := res.find(path)
		if e == nil {
			return manifest.Manifest{}, Stat{}, false
		}
		st := e.Stat
		st.Ctime = 0
		return e.Manifest, st, true
	}
	third, err := Scan(context.Background(), root, Options{PieceSize: ps, Prev: unknown})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range third.Entries {
		if e.Manifest.Kind == manifest.KindFile && !e.Hashed {
			t.Errorf("%s: Prev without ctime trusted", e.Manifest.Path)
		}
	}
}

func statOfPath(t *testing.T, p string) Stat {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return StatOf(fi)
}
