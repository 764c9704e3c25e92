package index

import (
	"fmt"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// pageFixture fills x with every kind of entry (files of 0, 1 and 300
// pieces, an executable, a version with a base, directories, tombstones)
// and returns them in walk order.
func pageFixture(t *testing.T, x *Index) []Entry {
	t.Helper()
	exec := fileManifest("a/run.sh", "#!/bin/sh")
	exec.Exec = true
	withBase := fileManifest("a/b", "new")
	withBase.Base = fileManifest("a/b", "old").ID
	st := scan.Stat{Size: 9, ModTime: 1e18, Inode: 7, Ctime: 1e18 + 3}
	es := []Entry{
		{Manifest: manifest.NewDir("a", 1)},
		{Manifest: withBase, Stat: scan.Stat{Size: 3, ModTime: 5, Inode: 6, Ctime: 8}},
		{Manifest: bigManifest("a/big", 300), Stat: scan.Stat{Size: 300 * manifest.MinPieceSize, Inode: 2}},
		{Manifest: exec, Stat: st},
		{Manifest: fileManifest("a.txt", "x")},
		{Manifest: fileManifest("empty", ""), Stat: scan.Stat{ModTime: 1e18, Inode: 1, Ctime: 1e18}},
		{Manifest: manifest.NewTombstone("gone", manifest.KindFile, exec.ID, 9)},
		{Manifest: manifest.NewTombstone("gone-dir", manifest.KindDir, manifest.DirID(), 9)},
	}
	for i := range 40 {
		es = append(es, Entry{Manifest: fileManifest(fmt.Sprintf("z/f%02d", i), fmt.Sprint(i)), Stat: scan.Stat{Size: 2, Inode: uint64(i)}})
	}
	if err := x.Update(Batch{Put: es}); err != nil {
		t.Fatal(err)
	}
	return es
}

func sameEntry(a, b Entry) bool {
	ma, _ := manifest.Marshal(&a.Manifest)
	mb, _ := manifest.Marshal(&b.Manifest)
	return string(ma) == string(mb) && a.Stat == b.Stat
}

// TestPageReader: a reused reader pages through the index as Page does, at
// every page size: whole entries equal to Get's, heads the same without
// their piece lists (same file ID); entries copied out of a page are still
// whole after the reader read further pages into the same memory.
func TestPageReader(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	want := pageFixture(t, x)
	for _, tt := range []struct {
		size  int
		heads bool
	}{{1, false}, {3, false}, {1000, false}, {1, true}, {7, true}, {1000, true}} {
		t.Run(fmt.Sprintf("page %d heads %v", tt.size, tt.heads), func(t *testing.T) {
			r := x.NewPageReader(tt.heads)
			var kept []Entry
			after := ""
			for {
				page, err := r.Page(after, tt.size)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				kept = append(kept, page...)
				after = page[len(page)-1].Manifest.Path
			}
			ref, err := x.Page("", 1000)
			if err != nil || len(kept) != len(want) || len(ref) != len(want) {
				t.Fatalf("%d entries (Page: %d, %v), want %d", len(kept), len(ref), err, len(want))
			}
			for i, e := range kept {
				if e.Manifest.Path != ref[i].Manifest.Path {
					t.Errorf("entry %d is %q, Page has %q", i, e.Manifest.Path, ref[i].Manifest.Path)
				}
				g, ok := x.Get(e.Manifest.Path)
				if !ok {
					t.Fatalf("entry %d: %q not in the index", i, e.Manifest.Path)
				}
				if tt.heads {
					if e.Manifest.Pieces != nil {
						t.Errorf("%q: heads page has %d pieces", e.Manifest.Path, len(e.Manifest.Pieces))
					}
					e.Manifest.Pieces = g.Manifest.Pieces
				}
				if !sameEntry(e, g) || e.Manifest.ID != g.Manifest.ID {
					t.Errorf("%q: page gives %+v, Get %+v", e.Manifest.Path, e, g)
				}
			}
		})
	}
}

// TestRecordFileID: the file ID computed from a record's piece bytes is
// manifest.FileID of the decoded list, for empty, single and long lists.
func TestRecordFileID(t *testing.T) {
	for _, n := range []int{0, 1, 2, 300} {
		m := bigManifest("p", n)
		if n == 0 {
			m = fileManifest("p", "")
		}
		rec, err := encodeRecord(&Entry{Manifest: m})
		if err != nil {
			t.Fatal(err)
		}
		var head Entry
		if err := decodeRecordTo(&head, rec, &pieceSlab{headsOnly: true}); err != nil {
			t.Fatal(err)
		}
		if head.Manifest.ID != m.ID || head.Manifest.Pieces != nil {
			t.Errorf("%d pieces: head ID %s (%d pieces), want %s", n, head.Manifest.ID.Short(), len(head.Manifest.Pieces), m.ID.Short())
		}
	}
}

// TestPageReaderAllocations: a reused reader reads a page of small files
// with a few allocations for the whole page (the store's iterator, the
// page's paths, piece blocks), not one or more per entry as Page did.
func TestPageReaderAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under the race detector")
	}
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	const n = 512
	var b Batch
	for i := range n {
		b.Put = append(b.Put, Entry{Manifest: fileManifest(fmt.Sprintf("d/f%04d", i), fmt.Sprint(i)), Stat: scan.Stat{Size: 3, Inode: uint64(i)}})
	}
	if err := x.Update(b); err != nil {
		t.Fatal(err)
	}
	for _, heads := range []bool{false, true} {
		r := x.NewPageReader(heads)
		allocs := testing.AllocsPerRun(5, func() {
			if page, err := r.Page("", n); err != nil || len(page) != n {
				t.Fatalf("page: %d entries, %v", len(page), err)
			}
		})
		if allocs > n/8 {
			t.Errorf("heads %v: %.0f allocations for a page of %d entries, want at most %d", heads, allocs, n, n/8)
		}
		t.Logf("heads %v: %.0f allocations for a page of %d entries", heads, allocs, n)
	}
}

// TestHeads: a batched lookup gives every path's entry as Get does (less
// the piece list), or none, whatever the order of the paths.
func TestHeads(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	pageFixture(t, x)
	for name, paths := range map[string][]string{
		"walk order":  {"a", "a/b", "a/big", "a/missing", "a.txt", "gone", "nothing", "z/f00", "z/f39", "zz"},
		"other order": {"z/f39", "a.txt", "nothing", "a/big", "a", "gone-dir", "a/b"},
		"one missing": {"a/"},
		"none":        nil,
	} {
		seen := 0
		err := x.Heads(paths, func(i int, e Entry, ok bool) {
			seen++
			g, gok := x.Get(paths[i])
			if ok != gok {
				t.Errorf("%s: %q found %v, Get %v", name, paths[i], ok, gok)
				return
			}
			if !ok {
				return
			}
			if e.Manifest.Pieces != nil {
				t.Errorf("%s: %q has its piece list", name, paths[i])
			}
			e.Manifest.Pieces = g.Manifest.Pieces
			if !sameEntry(e, g) || e.Manifest.ID != g.Manifest.ID {
				t.Errorf("%s: %q is %+v, Get %+v", name, paths[i], e, g)
			}
		})
		if err != nil || seen != len(paths) {
			t.Errorf("%s: %d of %d paths, %v", name, seen, len(paths), err)
		}
	}
}
