package index

import (
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// TestHeard: what Hear notes is written with the next Update (with what is
// staged after it), survives a reopen, only grows within an epoch, and
// starts again at a new epoch's Seq and Heard.
func TestHeard(t *testing.T) {
	type step struct {
		hear  uint64 // Hear(hear) first, if not 0
		batch *Batch // then Update(*batch), if set
	}
	tests := []struct {
		name      string
		steps     []step
		wantMem   uint64 // Heard() before the reopen
		wantDurab uint64 // Heard() after it
	}{
		{name: "nothing heard", wantMem: 0, wantDurab: 0},
		{name: "noted, not written: counted, but not durable",
			steps: []step{{hear: 7}}, wantMem: 7, wantDurab: 0},
		{name: "written by the next update",
			steps: []step{{hear: 7, batch: &Batch{}}}, wantMem: 7, wantDurab: 7},
		{name: "Seq counts",
			steps: []step{{batch: &Batch{Seq: 9}}, {hear: 4, batch: &Batch{}}}, wantMem: 9, wantDurab: 9},
		{name: "only grows",
			steps: []step{{hear: 7, batch: &Batch{}}, {hear: 5, batch: &Batch{}}}, wantMem: 7, wantDurab: 7},
		{name: "a new epoch starts at its Seq and Heard",
			steps: []step{{hear: 70, batch: &Batch{}}, {batch: &Batch{Epoch: &[16]byte{1}, ResetSeq: true, Heard: 3}}}, wantMem: 3, wantDurab: 3},
		{name: "a new epoch keeps what was noted and not written (cautious)",
			steps: []step{{hear: 70}, {batch: &Batch{Epoch: &[16]byte{1}, ResetSeq: true}}}, wantMem: 70, wantDurab: 70},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			x, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.steps {
				if s.hear != 0 {
					x.Hear(s.hear)
				}
				if s.batch != nil {
					if err := x.Update(*s.batch); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got := x.Heard(); got != tt.wantMem {
				t.Errorf("Heard() = %d, want %d", got, tt.wantMem)
			}
			x.Close()
			if x, err = Open(dir); err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			if got := x.Heard(); got != tt.wantDurab {
				t.Errorf("after a reopen, Heard() = %d, want %d", got, tt.wantDurab)
			}
		})
	}
}

// TestHeardWrittenWithStagedEntries: an answer noted before its outcome is
// staged is durable whenever the outcome is, so a crash never leaves an
// entry recorded as known to the tracker above the stored Heard.
func TestHeardWrittenWithStagedEntries(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	x.Hear(12)
	x.Stage(Entry{Manifest: manifest.NewTombstone("a", manifest.KindFile, manifest.Hash([]byte("a")), 1)})
	if err := x.Flush(); err != nil {
		t.Fatal(err)
	}
	x.Close()
	if x, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if _, ok := x.Get("a"); !ok || x.Heard() != 12 {
		t.Fatalf("after a reopen: entry %v, Heard %d; want the entry and 12", ok, x.Heard())
	}
}
