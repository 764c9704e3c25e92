package scan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// TestStreamBatches: Stream gives the same entries as Scan, in walk order,
// in batches of at most Options.Batch, with the files hashed on several
// workers put back in order; an unchanged file (Prev) is not hashed.
func TestStreamBatches(t *testing.T) {
	root, _ := testTree(t)
	for i := range 40 {
		write(t, root, fmt.Sprintf("many/f%02d", i), randomBytes(uint64(i), int(ps)/2+i), 0o644)
	}
	write(t, root, "a-b", []byte("sorts after a/ in walk order"), 0o644)
	all, err := Scan(context.Background(), root, Options{PieceSize: ps})
	if err != nil {
		t.Fatal(err)
	}
	prev := func(p string) (manifest.Manifest, Stat, bool) {
		for _, e := range all.Entries {
			if e.Manifest.Path == p && p == "many/f07" {
				return e.Manifest, e.Stat, true
			}
		}
		return manifest.Manifest{}, Stat{}, false
	}
	for _, size := range []int{1, 3, 7, 1024} {
		var got []Entry
		var paths []string
		err := Stream(context.Background(), root, Options{PieceSize: ps, Batch: size, Workers: 3, Prev: prev}, func(b Batch) error {
			if b.Len() == 0 || b.Len() > size {
				t.Errorf("batch of %d, bound %d", b.Len(), size)
			}
			got = append(got, b.Entries...)
			for _, e := range b.Entries {
				paths = append(paths, e.Manifest.Path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(paths, walkCompare) {
			t.Errorf("batch %d: not in walk order: %q", size, paths)
		}
		if len(got) != len(all.Entries) {
			t.Fatalf("batch %d: %d entries, Scan found %d", size, len(got), len(all.Entries))
		}
		for i, e := range got {
			w := all.Entries[i]
			if e.Manifest.Path != w.Manifest.Path || e.Manifest.ID != w.Manifest.ID {
				t.Errorf("batch %d: entry %d is %s %s, want %s %s", size, i, e.Manifest.Path, e.Manifest.ID.Short(), w.Manifest.Path, w.Manifest.ID.Short())
			}
			if isFile := e.Manifest.Kind == manifest.KindFile; e.Hashed != (isFile && e.Manifest.Path != "many/f07") {
				t.Errorf("batch %d: %s hashed=%v", size, e.Manifest.Path, e.Hashed)
			}
		}
	}
}

// TestStreamStops: an error from the callback stops the scan (no more
// batches) and is returned; a cancelled context stops it midway with the
// context's error, the rest of the folder never given.
func TestStreamStops(t *testing.T) {
	root := t.TempDir()
	for i := range 200 {
		write(t, root, fmt.Sprintf("d%d/f%03d", i/50, i), []byte{byte(i)}, 0o644)
	}
	stop := errors.New("enough")
	calls := 0
	err := Stream(context.Background(), root, Options{PieceSize: ps, Batch: 10}, func(Batch) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Stream = %v after %d batches, want %v after 1", err, calls, stop)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen []string
	err = Stream(ctx, root, Options{PieceSize: ps, Batch: 10}, func(b Batch) error {
		for _, e := range b.Entries {
			seen = append(seen, e.Manifest.Path)
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Stream cancelled midway = %v", err)
	}
	if len(seen) >= 204 {
		t.Errorf("a cancelled Stream gave all %d entries", len(seen))
	}
}
