package index

import (
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

func TestUnackedReports(t *testing.T) {
	id := func(s string) manifest.ID { return manifest.Hash([]byte(s)) }
	entry := func(p, content string) Entry {
		return Entry{Manifest: manifest.NewTombstone(p, manifest.KindFile, id(content), 1)}
	}
	tests := []struct {
		name    string
		batches []Batch
		stage   []Entry // staged after the batches, not written
		path    string
		want    []manifest.ID
	}{
		{name: "nothing reported", path: "a", want: nil},
		{name: "reports newest first, repeats moved to the front",
			batches: []Batch{{Reported: []Reported{{"a", id("1")}}}, {Reported: []Reported{{"a", id("2")}}}, {Reported: []Reported{{"a", id("1")}}}},
			path:    "a", want: []manifest.ID{id("1"), id("2")}},
		{name: "an entry stored forgets them",
			batches: []Batch{{Reported: []Reported{{"a", id("1")}}}, {Put: []Entry{entry("a", "1")}}},
			path:    "a", want: nil},
		{name: "an entry stored with a new report keeps only the new one",
			batches: []Batch{{Reported: []Reported{{"a", id("1")}}}, {Put: []Entry{entry("a", "1")}, Reported: []Reported{{"a", id("2")}}}},
			path:    "a", want: []manifest.ID{id("2")}},
		{name: "another path's entry changes nothing",
			batches: []Batch{{Reported: []Reported{{"a", id("1")}}}, {Put: []Entry{entry("b", "1")}}},
			path:    "a", want: []manifest.ID{id("1")}},
		{name: "a staged entry hides them",
			batches: []Batch{{Reported: []Reported{{"a", id("1")}}}}, stage: []Entry{entry("a", "1")},
			path: "a", want: nil},
		{name: "bounded",
			batches: func() []Batch {
				var bs []Batch
				for i := range MaxUnacked + 3 {
					bs = append(bs, Batch{Reported: []Reported{{"a", id(string(rune('a' + i)))}}})
				}
				return bs
			}(),
			path: "a", want: func() []manifest.ID {
				var ids []manifest.ID
				for i := MaxUnacked + 2; i >= 3; i-- {
					ids = append(ids, id(string(rune('a'+i))))
				}
				return ids
			}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			x, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range tt.batches {
				if err := x.Update(b); err != nil {
					t.Fatal(err)
				}
			}
			x.Stage(tt.stage...)
			got, err := x.Unacked([]string{tt.path})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[tt.path], tt.want) {
				t.Fatalf("Unacked = %v, want %v", got[tt.path], tt.want)
			}
			if len(tt.stage) > 0 {
				return
			}
			// durable: the same after a reopen
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
			if x, err = Open(dir); err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			if got, _ = x.Unacked([]string{tt.path}); !slices.Equal(got[tt.path], tt.want) {
				t.Fatalf("after reopen: Unacked = %v, want %v", got[tt.path], tt.want)
			}
		})
	}
}

// TestUnackedCountFollowsRecords: the count of paths with reports (which
// lets an entry skip the lookup when there are none) stays right over
// repeated reports, forgets and reopens: every path's reports are
// forgotten by its entry, the last one too.
func TestUnackedCountFollowsRecords(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	id := func(s string) manifest.ID { return manifest.Hash([]byte(s)) }
	entry := func(p string) Entry {
		return Entry{Manifest: manifest.NewTombstone(p, manifest.KindFile, id(p), 1)}
	}
	rep := Batch{Reported: []Reported{{"a", id("1")}, {"b", id("1")}, {"a", id("2")}, {"c", id("1")}}}
	if err := x.Update(rep); err != nil {
		t.Fatal(err)
	}
	x.Stage(entry("a"))
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if x, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if err := x.Update(Batch{Put: []Entry{entry("b")}}); err != nil {
		t.Fatal(err)
	}
	x.Stage(entry("c"))
	got, err := x.Unacked([]string{"a", "b", "c"})
	if err != nil || len(got) != 0 {
		t.Fatalf("Unacked = %v %v, want none", got, err)
	}
	if x.unacked != 0 {
		t.Fatalf("count of paths with reports = %d, want 0", x.unacked)
	}
}
