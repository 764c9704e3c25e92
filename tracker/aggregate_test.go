package tracker

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/manifest/manifestpb"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// aggSnapshot is what the aggregates hold, comparable.
type aggSnapshot struct {
	Folders   map[string][2]uint64
	Owned     map[uint32]int
	Conflicts map[string]uint64
	Rows      map[string]int
}

func snapshot(a *aggregates) aggSnapshot {
	a.mu.RLock()
	defer a.mu.RUnlock()
	s := aggSnapshot{Folders: map[string][2]uint64{}, Owned: map[uint32]int{}, Conflicts: map[string]uint64{}, Rows: map[string]int{}}
	for f, ft := range a.folders {
		s.Folders[f] = [2]uint64{uint64(ft.files), ft.bytes}
		s.Rows[f] = ft.rows
	}
	for n, c := range a.owned {
		s.Owned[n] = c
	}
	for k, c := range a.conflicts {
		s.Conflicts[k] = c.Size
	}
	return s
}

// TestAggregatesFollowCommits: after additions, edits, ownership, a
// conflict, a deletion and a directory, the totals kept by the commit path
// equal the totals rebuilt from the files table, and the recent changes
// list the changes of content newest first.
func TestAggregatesFollowCommits(t *testing.T) {
	s := openTestStore(t)
	a1, _, err := s.addMember(newTestIdentity(t).ID)
	if err != nil {
		t.Fatal(err)
	}
	a2, _, _ := s.addMember(newTestIdentity(t).ID)
	apply := func(folder string, who uint32, cs ...Change) []Result {
		t.Helper()
		rs, err := s.apply(folder, who, cs)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	x := testFile("x.txt", "hello", t0, manifest.ID{})
	y := testFile("dir/y.bin", "yyyyyyyy", t0, manifest.ID{})
	apply("", a1, Change{New: x}, Change{New: y}, Change{New: testDir("dir", t0, manifest.ID{})})
	apply("other", a1, Change{New: testFile("z", "zz", t0, manifest.ID{})})
	apply("", a2, Change{New: x, OwnershipOnly: true}) // a2 owns x too
	// concurrent edits of x: the later one keeps the name, the other is a conflict copy
	x1 := testFile("x.txt", "hello, one", t0+1, x.ID)
	x2 := testFile("x.txt", "hello, two!", t0+2, x.ID)
	apply("", a1, Change{New: x1})
	if rs := apply("", a2, Change{New: x2}); rs[0].Outcome != Conflict {
		t.Fatalf("want a conflict, got %v", rs[0].Outcome)
	}
	if rs := apply("", a1, Change{New: manifest.NewTombstone(y.Path, manifest.KindFile, y.ID, t0+3)}); rs[0].Outcome != Accepted {
		t.Fatalf("deletion: %v %v", rs[0].Outcome, rs[0].Err)
	}

	got := snapshot(s.agg)
	want := aggSnapshot{
		Folders: map[string][2]uint64{"": {2, uint64(len("hello, one") + len("hello, two!"))}, "other": {1, 2}},
		Owned:   map[uint32]int{a1: 2, a2: 1},
	}
	if !reflect.DeepEqual(got.Rows, map[string]int{"": 4, "other": 1}) {
		t.Errorf("rows %v, want 4 (x, y, dir, the conflict copy) and 1", got.Rows)
	}
	if !reflect.DeepEqual(got.Folders, want.Folders) || !reflect.DeepEqual(got.Owned, want.Owned) || len(got.Conflicts) != 1 {
		t.Fatalf("aggregates %+v, want folders %v owned %v and one conflict", got, want.Folders, want.Owned)
	}
	var rebuilt *aggregates
	if err := s.db.View(func(tx *bolt.Tx) (err error) { rebuilt, err = scanAggregates(tx, 0, nil); return err }); err != nil {
		t.Fatal(err)
	}
	if r := snapshot(rebuilt); !reflect.DeepEqual(r, got) {
		t.Fatalf("rebuilt %+v\nkept    %+v", r, got)
	}
	reloaded, err := loadAggregates(s.db)
	if err != nil {
		t.Fatal(err)
	}
	if r := snapshot(reloaded); !reflect.DeepEqual(r, got) {
		t.Fatalf("recorded %+v\nkept     %+v", r, got)
	}
	if n := s.agg.outcomes[Conflict].Load(); n != 1 {
		t.Errorf("conflict outcomes = %d, want 1", n)
	}

	var whats []string
	srv := &Server{store: s}
	for _, c := range srv.Overview().RecentChanges() {
		whats = append(whats, c.What+" "+c.Path)
	}
	wantWhats := []string{"deleted dir/y.bin", "changed x.txt", "conflict copy " + pathOf(t, srv), "changed x.txt",
		"added z", "added dir", "added dir/y.bin", "added x.txt"}
	if !reflect.DeepEqual(whats, wantWhats) {
		t.Errorf("recent changes\n%q\nwant\n%q", whats, wantWhats)
	}
}

// pathOf returns the one conflict copy's path.
func pathOf(t *testing.T, srv *Server) string {
	cs, n := srv.Overview().ConflictCopies(10)
	if n != 1 {
		t.Fatalf("%d conflict copies, want 1", n)
	}
	return cs[0].Path
}

// TestRecentChangesRing: the ring keeps the last recentChanges changes.
func TestRecentChangesRing(t *testing.T) {
	s := openTestStore(t)
	a1, _, _ := s.addMember(newTestIdentity(t).ID)
	for i := range recentChanges + 7 {
		if _, err := s.apply("", a1, reports(testFile(fmt.Sprintf("f%03d", i), "x", t0, manifest.ID{}))); err != nil {
			t.Fatal(err)
		}
	}
	cs := (&Server{store: s}).Overview().RecentChanges()
	if len(cs) != recentChanges || cs[0].Path != fmt.Sprintf("f%03d", recentChanges+6) || cs[len(cs)-1].Path != "f007" {
		t.Fatalf("%d changes, first %q last %q", len(cs), cs[0].Path, cs[len(cs)-1].Path)
	}
	for i := 1; i < len(cs); i++ {
		if cs[i].Seq >= cs[i-1].Seq {
			t.Fatalf("not newest first at %d: %d then %d", i, cs[i-1].Seq, cs[i].Seq)
		}
	}
}

// TestSummarizeFields: summarize reads what proto.Unmarshal reads.
func TestSummarizeFields(t *testing.T) {
	m := manifest.ToProto(ptr(testFile("a/b.sync-conflict-20260102-030405-ABCDEFG.txt", "content!", t0, manifest.ID{})))
	mb, _ := proto.Marshal(m)
	rb, _ := proto.Marshal(&trackerpb.EntryRecord{Seq: 42, Owners: []uint32{3, 7, 300}, Author: 7, Manifest: mb})
	e, err := summarize(rb)
	if err != nil {
		t.Fatal(err)
	}
	want := entrySummary{seq: 42, owners: []uint32{3, 7, 300}, author: 7, size: 8, modTime: t0, fileID: string(m.FileId)}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("summarize = %+v, want %+v", e, want)
	}
	dm := manifest.ToProto(ptr(testDir("d", t0, manifest.ID{})))
	db, _ := proto.Marshal(dm)
	rb, _ = proto.Marshal(&trackerpb.EntryRecord{Seq: 1, Manifest: db})
	if e, err := summarize(rb); err != nil || !e.dir || dm.Kind != manifestpb.Kind_KIND_DIR {
		t.Fatalf("directory: %+v %v", e, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestIsConflictCopy(t *testing.T) {
	id := newTestIdentity(t).ID
	tests := []struct {
		path string
		want bool
	}{
		{ConflictName("notes.txt", t0, id), true},
		{ConflictName("dir/Makefile", t0, id), true},
		{"a.sync-conflict-2026-x.txt", false},
		{"notes.txt", false},
		{"dir.sync-conflict-20260102-030405-ABC/inside.txt", false},
		{".sync-conflict-20260102-030405-", true},
	}
	for _, tt := range tests {
		if got := IsConflictCopy(tt.path); got != tt.want {
			t.Errorf("IsConflictCopy(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// summarizeSeeds are FuzzSummarize's seeds: a file, a conflict copy, a
// directory, a tombstone.
func summarizeSeeds() [][]byte {
	var out [][]byte
	for _, m := range []manifest.Manifest{
		testFile("a.txt", "hello", t0, manifest.ID{}),
		testFile("a.sync-conflict-20260102-030405-ABCDEFG.txt", "hello, you", t0, manifest.ID{}),
		testDir("d", t0, manifest.ID{}),
		manifest.NewTombstone("gone", manifest.KindFile, manifest.ID{1}, t0),
	} {
		mb, _ := proto.Marshal(manifest.ToProto(&m))
		rb, _ := proto.Marshal(&trackerpb.EntryRecord{Seq: 9, Owners: []uint32{1, 2}, Author: 2, Manifest: mb})
		out = append(out, rb)
	}
	return out
}

// TestSummarizeSeeds writes testdata/fuzz/FuzzSummarize/seed-* when
// DARTSYNC_WRITE_SEEDS=1; otherwise it checks they are there.
func TestSummarizeSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzSummarize")
	for i, b := range summarizeSeeds() {
		p := filepath.Join(dir, fmt.Sprintf("seed-%d", i))
		if os.Getenv("DARTSYNC_WRITE_SEEDS") == "1" {
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(p, fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
				t.Fatal(err)
			}
		} else if _, err := os.Stat(p); err != nil {
			t.Errorf("missing seed %s (run with DARTSYNC_WRITE_SEEDS=1): %v", p, err)
		}
		if _, err := summarize(b); err != nil {
			t.Errorf("seed %d: %v", i, err)
		}
	}
}

// FuzzSummarize: any record decodes or fails cleanly, and a record that
// proto.Unmarshal accepts summarizes to the same seq and owners.
func FuzzSummarize(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := summarize(b)
		var rec trackerpb.EntryRecord
		if err != nil || proto.Unmarshal(b, &rec) != nil {
			return
		}
		if e.seq != rec.Seq || !reflect.DeepEqual(e.owners, nilIfEmpty(rec.Owners)) {
			t.Fatalf("summarize %+v, proto %v", e, &rec)
		}
	})
}

func nilIfEmpty(s []uint32) []uint32 {
	if len(s) == 0 {
		return nil
	}
	return s
}
