package index

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// TestHistoryRecordsReplacedVersions: every version an entry held before is
// in its history, newest first, whether the new one was staged or put, and
// survives a reopen; a restat adds nothing; the oldest beyond MaxHistory is
// forgotten.
func TestHistoryRecordsReplacedVersions(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	v := func(i int) Entry {
		return Entry{Manifest: fileManifest("p", fmt.Sprint("version ", i)), Stat: scan.Stat{Size: int64(i)}}
	}
	x.Stage(v(0))
	x.Stage(v(1))                                               // staged twice before one write
	if err := x.Update(Batch{Put: []Entry{v(2)}}); err != nil { // a direct put
		t.Fatal(err)
	}
	restat := v(2)
	restat.Stat.ModTime = 99
	x.Stage(restat)
	tomb := Entry{Manifest: manifest.NewTombstone("p", manifest.KindFile, v(2).Manifest.ID, 5)}
	x.Stage(tomb)
	x.Stage(Entry{Manifest: fileManifest("other", "x")})
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []manifest.ID{v(2).Manifest.ID, v(1).Manifest.ID, v(0).Manifest.ID}
	if got, err := x.History("p"); err != nil || !slices.Equal(got, want) {
		t.Fatalf("history %v %v, want %v", got, err, want)
	}
	if got, _ := x.History("other"); len(got) != 0 {
		t.Fatalf("a new path has history %v", got)
	}
	x.Close()
	if x, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got, err := x.History("p"); err != nil || !slices.Equal(got, want) {
		t.Fatalf("after reopen: history %v %v, want %v", got, err, want)
	}
	for i := 3; i < 3+MaxHistory+5; i++ {
		x.Stage(v(i))
	}
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := x.History("p")
	if err != nil || len(got) != MaxHistory || got[0] != v(3+MaxHistory+3).Manifest.ID {
		t.Fatalf("bounded history: %d entries, newest %v, err %v", len(got), got[0].Short(), err)
	}
	if slices.Contains(got, v(0).Manifest.ID) {
		t.Fatal("the oldest version was kept beyond MaxHistory")
	}
}

// TestEpochResetSeqAndClearWants: the epoch is remembered with the sequence
// number, ResetSeq moves it back, ClearWants forgets every want first.
func TestEpochResetSeqAndClearWants(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if x.Epoch() != [16]byte{} {
		t.Fatal("a new index has an epoch")
	}
	e := [16]byte{7}
	w := func(p string) Want { return Want{Manifest: fileManifest(p, p), Seq: 40} }
	if err := x.Update(Batch{Wants: []Want{w("a"), w("b")}, Seq: 40, Epoch: &e}); err != nil {
		t.Fatal(err)
	}
	if err := x.Update(Batch{ClearWants: true, Wants: []Want{w("c")}, Epoch: &[16]byte{}, ResetSeq: true}); err != nil {
		t.Fatal(err)
	}
	x.Close()
	if x, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	ws, err := x.Wants()
	if err != nil || len(ws) != 1 || ws[0].Manifest.Path != "c" {
		t.Fatalf("wants after ClearWants: %v %v", ws, err)
	}
	if x.Epoch() != [16]byte{} || x.Seq() != 0 {
		t.Fatalf("epoch %v seq %d, want none and 0", x.Epoch(), x.Seq())
	}
	if err := x.Update(Batch{Epoch: &e, ResetSeq: true, Seq: 3}); err != nil {
		t.Fatal(err)
	}
	if x.Epoch() != e || x.Seq() != 3 {
		t.Fatalf("epoch %v seq %d", x.Epoch(), x.Seq())
	}
}
