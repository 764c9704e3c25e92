package peer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestScanCancelledMidwayDeletesNothing: a scan cancelled after its first
// batch reports no deletion, neither of the files it walked past nor of
// the rest of the folder it never walked: their index entries stay live.
// (The folder has no tracker client: any report would fail the test.)
func TestScanCancelledMidwayDeletesNothing(t *testing.T) {
	root := t.TempDir()
	smallTree(t, root, 3000) // d0000..d0002, 1 000 files each: three batches and more
	f := indexedFolder(t, root)
	gone := []string{"d0000/f000010.txt", "d0002/f002500.txt", "d0002/f002999.txt"}
	for _, p := range gone {
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	batches := 0
	f.report.afterBatch = func() {
		batches++
		cancel()
	}
	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("the cancelled scan tried to report: %v", v)
			}
		}()
		return f.report.scan(ctx)
	}()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scan = %v, want context.Canceled", err)
	}
	if batches != 1 {
		t.Errorf("%d batches after the cancel, want 1", batches)
	}
	if n := f.stats.LocalChanges.Load(); n != 0 {
		t.Errorf("%d local changes reported", n)
	}
	for _, p := range gone {
		if e, ok := f.idx.Get(p); !ok || e.Manifest.Deleted {
			t.Errorf("%s: indexed %v deleted %v, want still live", p, ok, e.Manifest.Deleted)
		}
	}
}
