package index

import (
	"testing"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// countKeys counts the records under prefix p.
func countKeys(t *testing.T, x *Index, p byte) int {
	t.Helper()
	it, err := x.db.NewIter(&pebble.IterOptions{LowerBound: []byte{p}, UpperBound: keyUpper(p)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	return n
}

// TestWantPieceListsFollowTheirHeads: a want's piece list is stored apart
// from its head, read back whole by Want, and removed with the want (done,
// replaced by a want without pieces, or cleared).
func TestWantPieceListsFollowTheirHeads(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	big := bigManifest("big", 50)
	owners := []identity.DeviceID{{1}, {2}}
	if err := x.Update(Batch{Wants: []Want{{Manifest: big, Owners: owners, Seq: 3}, {Manifest: bigManifest("other", 2), Seq: 4}}}); err != nil {
		t.Fatal(err)
	}
	w, ok, err := x.Want("big", big.ID)
	if err != nil || !ok || len(w.Manifest.Pieces) != 50 || w.Manifest.Pieces[49] != big.Pieces[49] || w.Owners[1] != owners[1] || w.Seq != 3 {
		t.Fatalf("Want = %+v %v %v", w, ok, err)
	}
	if n := countKeys(t, x, prefixPieces); n != 2 {
		t.Fatalf("%d piece lists, want 2", n)
	}
	gone := manifest.NewTombstone("big", manifest.KindFile, big.ID, 9)
	if err := x.Update(Batch{Wants: []Want{{Manifest: gone, Seq: 5}}, DoneWants: []Done{{Path: "other"}}}); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, x, prefixPieces); n != 0 {
		t.Fatalf("%d piece lists left after the wants lost their pieces", n)
	}
	if w, ok, err := x.Want("big", gone.ID); err != nil || !ok || !w.Manifest.Deleted {
		t.Fatalf("Want(tombstone) = %+v %v %v", w, ok, err)
	}
	if err := x.Update(Batch{Wants: []Want{{Manifest: big, Seq: 6}}}); err != nil {
		t.Fatal(err)
	}
	if err := x.Update(Batch{ClearWants: true}); err != nil {
		t.Fatal(err)
	}
	if a, b := countKeys(t, x, prefixPieces), countKeys(t, x, prefixWants); a+b != 0 {
		t.Fatalf("after ClearWants: %d piece lists, %d heads", a, b)
	}
}
