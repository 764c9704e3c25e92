package decide

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// smallPages is a Pager over v (sorted here in walk order) that returns at
// most max entries whatever it is asked: every page boundary a merge can
// meet.
func smallPages(v view, max int) Pager {
	sorted := slices.Clone(v)
	slices.SortFunc(sorted, func(a, b index.Entry) int { return index.ComparePaths(a.Manifest.Path, b.Manifest.Path) })
	return func(after string, n int) ([]index.Entry, error) {
		i := 0
		if after != "" {
			i = slices.IndexFunc(sorted, func(e index.Entry) bool { return index.ComparePaths(e.Manifest.Path, after) > 0 })
			if i < 0 {
				return nil, nil
			}
		}
		return slices.Clone(sorted[i:min(i+min(n, max), len(sorted))]), nil
	}
}

// walkItem is one path of a walk: an entry, or a skip if skip is set.
type walkItem struct {
	entry scan.Entry
	skip  string
}

// batches cuts a walk (in walk order) into batches of size items.
func batches(walk []walkItem, size int) []scan.Batch {
	var out []scan.Batch
	for len(walk) > 0 {
		n := min(size, len(walk))
		var b scan.Batch
		for _, it := range walk[:n] {
			if it.skip != "" {
				b.Skipped = append(b.Skipped, scan.Skip{Path: it.skip, Reason: "permission denied"})
			} else {
				b.Entries = append(b.Entries, it.entry)
			}
		}
		out = append(out, b)
		walk = walk[n:]
	}
	return out
}

// mergeAll merges the walk, cut into batches of size, with the index read
// in pages of at most page entries; it fails if a batch returns a
// deletion (they wait for Finish).
func mergeAll(t *testing.T, v view, walk []walkItem, size, page int, ignored func(string, bool) bool) (changes, dels []string) {
	t.Helper()
	m := NewLocalMerge(smallPages(v, page), set(), ignored, 9)
	for _, b := range batches(walk, size) {
		d, err := m.Batch(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Changes {
			if c.Manifest.Deleted {
				t.Fatalf("batch reported deletion %s before the walk ended", c.Manifest.Path)
			}
			changes = append(changes, c.Manifest.Path)
		}
	}
	ds, err := m.Finish()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ds {
		dels = append(dels, c.Manifest.Path)
	}
	return changes, dels
}

// TestLocalMergeAcrossBoundaries: the same walk and index give the same
// changes and deletions whatever the batch and page sizes: walk order
// around '/' ("a/x" before "a.txt"), a deletion at every position
// (including a batch's first and last), an unreadable directory whose
// indexed files are not deleted even when its skip ends a batch, and an
// ignored directory the walk did not enter.
func TestLocalMergeAcrossBoundaries(t *testing.T) {
	f := func(p string) index.Entry { return index.Entry{Manifest: file(t, p, p), Stat: stat(1)} }
	d := func(p string) index.Entry { return index.Entry{Manifest: manifest.NewDir(p, 1)} }
	idx := view{d("a"), f("a/x"), f("a/y"), f("a-b"), f("a.txt"), f("b0"), f("b1"), d("build"), f("build/out.o"),
		d("locked"), f("locked/in.txt"), d("locked/sub"), f("locked/sub/deep"), f("m0"), f("m1"), f("m2"), f("z")}
	gone := map[string]bool{"a/y": true, "a-b": true, "b1": true, "m1": true, "z": true}
	var walk []walkItem
	sorted := slices.Clone(idx)
	slices.SortFunc(sorted, func(a, b index.Entry) int { return index.ComparePaths(a.Manifest.Path, b.Manifest.Path) })
	for _, e := range sorted {
		p := e.Manifest.Path
		switch {
		case gone[p], strings.HasPrefix(p, "build"), strings.HasPrefix(p, "locked/"):
			continue
		case p == "locked":
			walk = append(walk, walkItem{entry: scan.Entry{Manifest: e.Manifest}}, walkItem{skip: "locked"})
			continue
		}
		walk = append(walk, walkItem{entry: scan.Entry{Manifest: e.Manifest, Stat: e.Stat}})
	}
	// New paths on both sides of the '/' ordering.
	newAx := scan.Entry{Manifest: file(t, "a/new", "n"), Stat: stat(2), Hashed: true}
	newDot := scan.Entry{Manifest: file(t, "a.new", "n"), Stat: stat(2), Hashed: true}
	walk = slices.Insert(walk, 1, walkItem{entry: newAx})
	i := slices.IndexFunc(walk, func(it walkItem) bool { return it.entry.Manifest.Path == "a.txt" })
	walk = slices.Insert(walk, i, walkItem{entry: newDot})
	if !slices.IsSortedFunc(walk, func(a, b walkItem) int { return index.ComparePaths(a.path(), b.path()) }) {
		t.Fatalf("test walk not in walk order: %v", walk)
	}
	ignored := func(p string, _ bool) bool { return p == "build" || strings.HasPrefix(p, "build/") }
	wantChanges := []string{"a/new", "a.new"}
	wantDels := []string{"a/y", "a-b", "b1", "m1", "z"}
	for size := 1; size <= len(walk); size++ {
		for _, page := range []int{1, 2, 3, 1024} {
			t.Run(fmt.Sprintf("batch%d/page%d", size, page), func(t *testing.T) {
				changes, dels := mergeAll(t, idx, walk, size, page, ignored)
				if !reflect.DeepEqual(changes, wantChanges) || !reflect.DeepEqual(dels, wantDels) {
					t.Errorf("changes %q deletions %q, want %q and %q", changes, dels, wantChanges, wantDels)
				}
			})
		}
	}
}

func (it walkItem) path() string {
	if it.skip != "" {
		return it.skip
	}
	return it.entry.Manifest.Path
}

// TestLocalMergeStoppedEarly: a merge whose walk stops midway (a cancelled
// scan) has found no deletion: Batch never returns one, and the index
// paths after the last batch are never looked at.
func TestLocalMergeStoppedEarly(t *testing.T) {
	var v view
	var walk []walkItem
	for i := range 10 {
		e := index.Entry{Manifest: file(t, fmt.Sprintf("f%d", i), "x"), Stat: stat(1)}
		v = append(v, e)
		if i%2 == 0 { // every other file is gone
			walk = append(walk, walkItem{entry: scan.Entry{Manifest: e.Manifest, Stat: e.Stat}})
		}
	}
	m := NewLocalMerge(smallPages(v, 2), set(), nil, 9)
	var paged []string
	page := m.cur.page
	m.cur.page = func(after string, n int) ([]index.Entry, error) {
		es, err := page(after, n)
		for _, e := range es {
			paged = append(paged, e.Manifest.Path)
		}
		return es, err
	}
	for _, b := range batches(walk[:2], 1) { // f0, f2: then the scan stops
		d, err := m.Batch(b)
		if err != nil || len(d.Changes) != 0 || len(d.Restat) != 0 {
			t.Fatalf("batch: %+v, %v", d, err)
		}
	}
	if m.Deletions() != 1 { // f1, held
		t.Errorf("%d deletions held, want 1 (f1)", m.Deletions())
	}
	if slices.Contains(paged, "f9") {
		t.Errorf("the merge read the index past the walk: %q", paged)
	}
}
