package peer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// TestFolderTombstoneBeforeChildren: a folder's tombstone applied before
// its children's (they came in a later batch) leaves the folder until the
// children are deleted, then removes it; a folder that holds a local file
// never synced is kept, and a scan is asked for to report that file.
func TestFolderTombstoneBeforeChildren(t *testing.T) {
	tests := []struct {
		name      string
		local     string // a file made here and never synced, if any
		wantGone  bool
		wantKick  bool
		wantStays bool // the folder's want is kept for a later pull
	}{
		{name: "only synced contents: removed once they are", wantGone: true, wantStays: true},
		{name: "a local file not synced yet: kept", local: "x/sub/mine.txt", wantKick: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := applyFixture(t)
			ctx := context.Background()
			root := d.root
			now := time.Now().UnixNano()
			dirs := []string{"x", "x/sub"}
			for _, p := range dirs {
				if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(p)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := d.idx.Update(index.Batch{Put: []index.Entry{{Manifest: manifest.NewDir(p, now)}}}); err != nil {
					t.Fatal(err)
				}
			}
			files := map[string][]byte{"x/a.txt": []byte("a"), "x/sub/b.txt": []byte("b")}
			for p, data := range files {
				syncedFile(t, d, p, data)
			}
			if tt.local != "" {
				writeLocal(t, root, tt.local, []byte("made here"))
			}
			tomb := func(p string, seq uint64) index.Want {
				ie, _ := d.idx.Get(p)
				return index.Want{Manifest: manifest.NewTombstone(p, ie.Manifest.Kind, ie.Manifest.ID, now), Seq: seq}
			}

			// The folder's tombstone alone.
			if err := d.idx.Update(index.Batch{Wants: []index.Want{tomb("x", 10)}}); err != nil {
				t.Fatal(err)
			}
			if _, err := d.pull.pull(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(filepath.Join(root, "x", "a.txt")); err != nil {
				t.Fatalf("a synced child was removed with its folder's tombstone: %v", err)
			}
			if _, ok := d.idx.WantID("x"); ok != tt.wantStays {
				t.Errorf("folder's want kept: %v, want %v", ok, tt.wantStays)
			}
			select {
			case <-d.scanKick:
				if !tt.wantKick {
					t.Error("scan asked for with only synced contents")
				}
			default:
				if tt.wantKick {
					t.Error("no scan asked for to report the local file")
				}
			}

			// The children's tombstones, in a later batch.
			if err := d.idx.Update(index.Batch{Wants: []index.Want{tomb("x/a.txt", 11), tomb("x/sub/b.txt", 12), tomb("x/sub", 13)}}); err != nil {
				t.Fatal(err)
			}
			if _, err := d.pull.pull(ctx); err != nil {
				t.Fatal(err)
			}
			for p := range files {
				if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p))); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s not deleted: %v", p, err)
				}
			}
			_, err := os.Lstat(filepath.Join(root, "x"))
			ie, _ := d.idx.Get("x")
			if tt.wantGone {
				if !errors.Is(err, os.ErrNotExist) || !ie.Manifest.Deleted {
					t.Errorf("emptied folder left behind: %v, index deleted %v", err, ie.Manifest.Deleted)
				}
				if _, ok := d.idx.WantID("x"); ok {
					t.Error("folder's want not finished")
				}
			} else {
				if b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(tt.local))); err != nil || string(b) != "made here" {
					t.Errorf("local file lost: %q %v", b, err)
				}
				if ie.Manifest.Deleted {
					t.Error("index records the kept folder as deleted")
				}
			}
		})
	}
}
