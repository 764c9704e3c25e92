package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// TestCountersFollowWrites: Len and HasLive follow puts, re-puts,
// tombstones, deletes (of present and absent paths), staged entries and a
// path put twice in one batch, and are the same after a reopen; they
// always equal a count over the entries.
func TestCountersFollowWrites(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { x.Close() }()
	file := func(p string) Entry { return Entry{Manifest: fileManifest(p, p)} }
	tomb := func(p string) Entry {
		return Entry{Manifest: manifest.NewTombstone(p, manifest.KindFile, fileManifest(p, p).ID, 1)}
	}
	check := func(step string, n int, live bool) {
		t.Helper()
		if x.Len() != n || x.HasLive() != live {
			t.Fatalf("%s: Len %d HasLive %v, want %d %v", step, x.Len(), x.HasLive(), n, live)
		}
		counted, alive := 0, false
		for after := ""; ; {
			page, err := x.Page(after, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				counted++
				alive = alive || !e.Manifest.Deleted
			}
			after = page[len(page)-1].Manifest.Path
		}
		if counted != n || alive != live {
			t.Fatalf("%s: the entries count %d (live %v), the counters %d %v", step, counted, alive, n, live)
		}
	}
	reopen := func() {
		t.Helper()
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		if x, err = Open(dir); err != nil {
			t.Fatal(err)
		}
	}
	check("empty", 0, false)
	if err := x.Update(Batch{Put: []Entry{file("a"), file("b"), file("a")}}); err != nil {
		t.Fatal(err)
	}
	check("two puts and a repeat in one batch", 2, true)
	x.Stage(file("c"), file("c"))
	check("staged", 3, true)
	if err := x.Update(Batch{Put: []Entry{tomb("a"), tomb("b"), tomb("c")}}); err != nil {
		t.Fatal(err)
	}
	check("tombstones", 3, false)
	reopen()
	check("tombstones after a reopen", 3, false)
	x.Stage(file("b"))
	check("live again", 3, true)
	if err := x.Update(Batch{Delete: []string{"b", "nope", "b"}}); err != nil {
		t.Fatal(err)
	}
	check("deleted", 2, false)
	if err := x.Update(Batch{Put: []Entry{file("d")}, Delete: []string{"d"}}); err != nil {
		t.Fatal(err)
	}
	check("put and deleted in one batch", 2, false)
	reopen()
	check("after a reopen", 2, false)

	// Random operations, checked against a model.
	model := map[string]bool{"a": false, "c": false}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		p := fmt.Sprint("r/", r.IntN(20))
		switch r.IntN(4) {
		case 0:
			x.Stage(file(p))
			model[p] = true
		case 1:
			if err := x.Update(Batch{Put: []Entry{tomb(p)}}); err != nil {
				t.Fatal(err)
			}
			model[p] = false
		case 2:
			if err := x.Update(Batch{Delete: []string{p}}); err != nil {
				t.Fatal(err)
			}
			delete(model, p)
		default:
			if err := x.Update(Batch{Put: []Entry{file(p)}}); err != nil {
				t.Fatal(err)
			}
			model[p] = true
		}
		if i%50 == 49 {
			reopen()
		}
		live := slices.Contains(mapValues(model), true)
		check(fmt.Sprint("random step ", i), len(model), live)
	}
}

func mapValues(m map[string]bool) []bool {
	var out []bool
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestStageIsVisibleAtOnce: a staged entry is seen by Get, Page and the
// counters before any Update, replaces what was there, forgets the path's
// unacked reports, and is durable after Flush (and also after a clean
// Close without one).
func TestStageIsVisibleAtOnce(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	v1 := Entry{Manifest: fileManifest("s/f", "one")}
	v2 := Entry{Manifest: fileManifest("s/f", "two")}
	if err := x.Update(Batch{Put: []Entry{v1}, Reported: []Reported{{"s/f", v2.Manifest.ID}}}); err != nil {
		t.Fatal(err)
	}
	x.Stage(v2)
	if got, ok := x.Get("s/f"); !ok || got.Manifest.ID != v2.Manifest.ID {
		t.Fatalf("Get after Stage = %v %v", got.Manifest.ID.Short(), ok)
	}
	if page, err := x.Page("", 10); err != nil || len(page) != 1 || page[0].Manifest.ID != v2.Manifest.ID {
		t.Fatalf("Page after Stage = %+v %v", page, err)
	}
	if un, err := x.Unacked([]string{"s/f"}); err != nil || len(un) != 0 {
		t.Fatalf("Unacked after Stage = %v %v", un, err)
	}
	if h, err := x.History("s/f"); err != nil || len(h) != 1 || h[0] != v1.Manifest.ID {
		t.Fatalf("History after Stage = %v %v", h, err)
	}
	x.Stage(Entry{Manifest: fileManifest("s/g", "g")})
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := x.Flush(); err != nil { // nothing left to write
		t.Fatal(err)
	}
	x.Stage(Entry{Manifest: fileManifest("s/h", "h")}) // no Flush
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	x, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for _, p := range []string{"s/f", "s/g", "s/h"} {
		if _, ok := x.Get(p); !ok {
			t.Errorf("%s lost over a reopen", p)
		}
	}
	if x.Len() != 3 {
		t.Errorf("Len = %d, want 3", x.Len())
	}
}

// TestStageOfAnInvalidEntryFailsTheNextUpdate: an entry that cannot be
// stored is not, the others staged with it are, and the next Update says so.
func TestStageOfAnInvalidEntryFailsTheNextUpdate(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	bad := Entry{Manifest: manifest.Manifest{Path: "bad", ID: manifest.ID{1}, PieceSize: 3}}
	x.Stage(bad, Entry{Manifest: fileManifest("ok", "ok")})
	if _, ok := x.Get("bad"); ok {
		t.Error("an invalid entry was stored")
	}
	if _, ok := x.Get("ok"); !ok {
		t.Error("the valid entry staged with it was not")
	}
	if err := x.Flush(); err == nil {
		t.Error("Flush after a failed Stage succeeded")
	}
	if err := x.Flush(); err != nil {
		t.Errorf("the error is returned once: %v", err)
	}
}
