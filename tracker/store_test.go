package tracker

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/tracker/trackerpb"

	"github.com/dartsync/dartsync/manifest"
)

func TestStoreReopenKeepsState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	dev := newTestIdentity(t).ID
	n, added, err := s.addMember(dev)
	if err != nil || !added {
		t.Fatal(err, added)
	}
	v1 := testFile("a", "one", t0, manifest.ID{})
	del := manifest.NewTombstone("a", manifest.KindFile, v1.ID, t0+1)
	if _, err := s.apply("", n, reports(v1, del, testFile("b", "bee", t0, manifest.ID{}))); err != nil {
		t.Fatal(err)
	}
	secret, seq := s.secret, s.current()
	if seq != 3 {
		t.Fatalf("seq %d", seq)
	}
	if err := s.close(endEpoch); err != nil {
		t.Fatal(err)
	}
	s, err = openStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(endEpoch)
	if s.secret != secret || s.current() != seq {
		t.Fatalf("secret or seq lost: %d", s.current())
	}
	if m, ok := s.member(dev); !ok || m != n {
		t.Fatal("member lost")
	}
	if n2, added, _ := s.addMember(dev); added || n2 != n {
		t.Fatal("member re-added")
	}
	e, ok, err := s.lookup("", "a")
	if err != nil || !ok || !e.Manifest.Deleted || e.Owners[0] != dev {
		t.Fatalf("tombstone lost: %+v %v %v", e, ok, err)
	}
}

func TestStoreSince(t *testing.T) {
	s := openTestStore(t)
	n, _, _ := s.addMember(newTestIdentity(t).ID)
	a1 := testFile("a", "a1", t0, manifest.ID{})
	b1 := testFile("b", "b1", t0, manifest.ID{})
	a2 := testFile("a", "a2", t0+1, a1.ID)
	c1 := testFile("c", "c1", t0, manifest.ID{})
	for _, m := range []manifest.Manifest{a1, b1, a2} {
		if _, err := s.apply("", n, reports(m)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.apply("other", n, reports(c1)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		after      uint64
		max        int
		wantPaths  []string
		wantNext   uint64
		wantSeqMax uint64
	}{
		{0, 100, []string{"b", "a"}, 4, 3}, // a's first version superseded: each path once, in seq order
		{2, 100, []string{"a"}, 4, 3},
		{3, 100, nil, 4, 0}, // only the other folder's change
		{4, 100, nil, 4, 0},
		{0, 1, []string{"b"}, 2, 2},
	}
	for _, tt := range tests {
		es, next, err := s.since("", tt.after, tt.max, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, b := range es {
			var e trackerpb.Entry
			if err := proto.Unmarshal(b, &e); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, e.Manifest.Path)
		}
		if len(paths) != len(tt.wantPaths) || next != tt.wantNext {
			t.Errorf("since(%d,%d) = %v next %d, want %v next %d", tt.after, tt.max, paths, next, tt.wantPaths, tt.wantNext)
			continue
		}
		for i := range paths {
			if paths[i] != tt.wantPaths[i] {
				t.Errorf("since(%d) = %v, want %v", tt.after, paths, tt.wantPaths)
			}
		}
	}
}

// TestEncodeEntryMatchesSchema: the hand-built push encoding decodes as the
// schema says.
func TestEncodeEntryMatchesSchema(t *testing.T) {
	s := openTestStore(t)
	dev := newTestIdentity(t).ID
	n, _, _ := s.addMember(dev)
	f := testFile("x/y.txt", "content", t0, manifest.ID{})
	if _, err := s.apply("", n, reports(f)); err != nil {
		t.Fatal(err)
	}
	es, _, err := s.since("", 0, 10, 1<<20)
	if err != nil || len(es) != 1 {
		t.Fatal(es, err)
	}
	var m trackerpb.TrackerMsg
	if err := proto.Unmarshal(encodeUpdates(append(es, es[0])), &m); err != nil {
		t.Fatal(err)
	}
	u := m.GetUpdates()
	if u == nil || len(u.Entries) != 2 {
		t.Fatalf("decoded %v", &m)
	}
	e, err := entryFromPB(u.Entries[1])
	if err != nil {
		t.Fatal(err)
	}
	if e.Manifest.ID != f.ID || e.Manifest.Path != f.Path || e.Seq != 1 || len(e.Owners) != 1 || e.Owners[0] != dev {
		t.Fatalf("entry %+v", e)
	}
}

func TestReleaseMappedKeepsData(t *testing.T) {
	s := openTestStore(t)
	n, _, _ := s.addMember(newTestIdentity(t).ID)
	batch := make([]manifest.Manifest, 500)
	for i := range batch {
		batch[i] = loadManifest(i)
	}
	if _, err := s.apply("", n, reports(batch...)); err != nil {
		t.Fatal(err)
	}
	before := rssFileKiB(t)
	es, _, err := s.since("", 0, 1000, 1<<30) // touches every page
	if err != nil || len(es) != len(batch) {
		t.Fatal(len(es), err)
	}
	if err := s.releaseMapped(); err != nil {
		t.Fatal(err)
	}
	t.Logf("RssFile %d KiB before reading, %d KiB after release", before, rssFileKiB(t))
	for _, m := range batch[:10] {
		e, ok, err := s.lookup("", m.Path)
		if err != nil || !ok || e.Manifest.ID != m.ID {
			t.Fatalf("%s after release: %v %v", m.Path, ok, err)
		}
	}
}

// rssFileKiB returns the process's file-backed resident memory (0 if unknown).
func rssFileKiB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssFile:" {
			v, _ := strconv.Atoi(f[1])
			return v
		}
	}
	return 0
}
