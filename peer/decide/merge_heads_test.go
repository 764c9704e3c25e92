package decide

import (
	"reflect"
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// headPages is a Pager like index.PageReader's with heads: entries without
// their piece lists, in one slice that every call overwrites.
func headPages(v view) Pager {
	sorted := slices.Clone(v)
	slices.SortFunc(sorted, func(a, b index.Entry) int { return index.ComparePaths(a.Manifest.Path, b.Manifest.Path) })
	var buf []index.Entry
	return func(after string, n int) ([]index.Entry, error) {
		i := 0
		if after != "" {
			i = slices.IndexFunc(sorted, func(e index.Entry) bool { return index.ComparePaths(e.Manifest.Path, after) > 0 })
			if i < 0 {
				return nil, nil
			}
		}
		clear(buf)
		buf = buf[:0]
		for _, e := range sorted[i:min(i+min(n, 2), len(sorted))] {
			e.Manifest.Pieces = nil
			buf = append(buf, e)
		}
		return buf, nil
	}
}

// TestLocalMergeOverHeads: a merge that reads the index as heads (no piece
// lists, a page slice reused) finds what it finds over whole entries, and
// an unchanged file with a new stat is restaged with its whole piece list
// (a restaged entry without pieces would corrupt the index).
func TestLocalMergeOverHeads(t *testing.T) {
	whole := func(p, content string, st scan.Stat) index.Entry {
		return index.Entry{Manifest: file(t, p, content), Stat: st}
	}
	idx := view{whole("a/same", "s", stat(1)), whole("a/touched", "t", stat(1)), whole("b/edited", "old", stat(1)),
		whole("c/gone", "g", stat(1)), {Manifest: manifest.NewDir("d", 1)}, whole("e/f", "f", stat(1))}
	touched := file(t, "a/touched", "t")
	touched.ModTime = 7
	walk := []scan.Entry{
		{Manifest: idx[0].Manifest, Stat: stat(1)},
		{Manifest: touched, Stat: stat(2), Hashed: true},
		{Manifest: file(t, "b/edited", "new"), Stat: stat(2), Hashed: true},
		{Manifest: file(t, "b/new", "n"), Stat: stat(2), Hashed: true},
		{Manifest: manifest.NewDir("d", 1)},
		{Manifest: idx[5].Manifest, Stat: stat(1)},
	}
	run := func(page Pager, size int) (Diff, []Change) {
		m := NewLocalMerge(page, set(), nil, 9)
		var all Diff
		for i := 0; i < len(walk); i += size {
			d, err := m.Batch(scan.Batch{Entries: walk[i:min(i+size, len(walk))]})
			if err != nil {
				t.Fatal(err)
			}
			all.Changes = append(all.Changes, d.Changes...)
			all.Restat = append(all.Restat, d.Restat...)
		}
		dels, err := m.Finish()
		if err != nil {
			t.Fatal(err)
		}
		return all, dels
	}
	for _, size := range []int{1, 2, len(walk)} {
		want, wantDels := run(smallPages(idx, 2), size)
		got, gotDels := run(headPages(idx), size)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotDels, wantDels) {
			t.Errorf("batch %d: over heads %+v %+v, over whole entries %+v %+v", size, got, gotDels, want, wantDels)
		}
		if len(got.Restat) != 1 || got.Restat[0].Manifest.Path != "a/touched" {
			t.Fatalf("batch %d: restaged %+v, want a/touched", size, got.Restat)
		}
		r := got.Restat[0]
		if err := r.Manifest.Validate(); err != nil || manifest.FileID(r.Manifest.Size, r.Manifest.PieceSize, r.Manifest.Pieces) != idx[1].Manifest.ID ||
			r.Stat != stat(2) || r.Manifest.ModTime != 7 {
			t.Errorf("batch %d: restaged %+v (%v), want the indexed version with the new stat and mtime", size, r, err)
		}
		if len(gotDels) != 1 || gotDels[0].Manifest.Base != idx[3].Manifest.ID {
			t.Errorf("batch %d: deletions %+v, want c/gone's tombstone", size, gotDels)
		}
	}
}
