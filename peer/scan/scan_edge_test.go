package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

func TestScanVanishedDuringScan(t *testing.T) {
	root, _ := testTree(t)
	// Prev is called during the walk, after the file was listed: deleting it
	// there makes it vanish before it is hashed.
	prev := func(p string) (manifest.Manifest, Stat, bool) {
		if p == "one" || p == "big/large.bin" {
			os.Remove(filepath.Join(root, filepath.FromSlash(p)))
		}
		return manifest.Manifest{}, Stat{}, false
	}
	var last Progress
	res, err := Scan(context.Background(), root, Options{PieceSize: ps, Prev: prev, Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if res.find("one") != nil || res.find("big/large.bin") != nil || len(res.Skipped) != 0 {
		t.Errorf("vanished files: entries %v, skipped %v", res.find("one"), res.Skipped)
	}
	if last.Files != last.TotalFiles || last.Bytes != last.TotalBytes {
		t.Errorf("progress does not add up: %+v", last)
	}
}

func TestScanCancel(t *testing.T) {
	root, _ := testTree(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Scan(ctx, root, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan with a canceled context = %v", err)
	}

	// Cancel once the walk is done: hashing stops and Scan says why.
	for i := range 20 {
		write(t, root, filepath.Join("many", string(rune('a'+i))), randomBytes(uint64(i), 50*ps), 0o644)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var calls int
	res, err := Scan(ctx, root, Options{PieceSize: ps, Workers: 1, Progress: func(p Progress) {
		calls++
		if calls == 1 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || res.Entries != nil {
		t.Errorf("Scan canceled after the walk = %d entries, %v", len(res.Entries), err)
	}
}

func TestScanBadRoot(t *testing.T) {
	root := t.TempDir()
	write(t, root, "file", []byte("x"), 0o644)
	tests := []struct {
		name string
		root string
		opt  Options
	}{
		{"missing", filepath.Join(root, "missing"), Options{}},
		{"a file", filepath.Join(root, "file"), Options{}},
		{"bad piece size", root, Options{PieceSize: 1}},
	}
	for _, tt := range tests {
		if _, err := Scan(context.Background(), tt.root, tt.opt); err == nil {
			t.Errorf("%s: Scan succeeded", tt.name)
		}
	}
}

// TestScanJustModified: a file written right before the scan (inside the
// racy window) is hashed after the window, correctly.
func TestScanJustModified(t *testing.T) {
	root := t.TempDir()
	for i := range 4 {
		data := randomBytes(uint64(i), 10*ps)
		write(t, root, fmt.Sprintf("hot%d", i), data, 0o644)
	}
	res, err := Scan(context.Background(), root, Options{PieceSize: ps})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 4 || len(res.Skipped) != 0 {
		t.Fatalf("entries %d skipped %v", len(res.Entries), res.Skipped)
	}
	for i, e := range res.Entries {
		if want := reference("", randomBytes(uint64(i), 10*ps), ps).ID; !e.Hashed || e.Manifest.ID != want {
			t.Errorf("%s: hashed=%v id %s, want %s", e.Manifest.Path, e.Hashed, e.Manifest.ID.Short(), want.Short())
		}
	}
}
