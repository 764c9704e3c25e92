package tracker

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// step is one report by device (index into the test's devices).
type step struct {
	dev int
	m   manifest.Manifest
}

func TestApplyCAS(t *testing.T) {
	v1 := testFile("docs/a.txt", "version one", t0, manifest.ID{})
	v2 := testFile("docs/a.txt", "version two (device 0)", t0+int64(time.Minute), v1.ID)
	v3new := testFile("docs/a.txt", "version three (device 1, later)", t0+int64(time.Hour), v1.ID)
	v3old := testFile("docs/a.txt", "version three (device 1, earlier)", t0+int64(time.Second), v1.ID)
	v3tie := testFile("docs/a.txt", "version three (device 1, same time)", v2.ModTime, v1.ID)
	del1 := manifest.NewTombstone("docs/a.txt", manifest.KindFile, v1.ID, t0+int64(2*time.Minute))
	del2 := manifest.NewTombstone("docs/a.txt", manifest.KindFile, v2.ID, t0+int64(2*time.Minute))
	edit1 := testFile("docs/a.txt", "edited while deleted elsewhere", t0+int64(time.Second), v1.ID)
	orphan := testFile("docs/b.txt", "base from another life", t0, manifest.Hash([]byte("gone")))
	dirA := testDir("docs/d", t0, manifest.ID{})
	fileD := testFile("docs/d", "a file named d", t0+int64(time.Hour), manifest.ID{})
	dirStale := testDir("docs/d", t0, manifest.Hash([]byte("stale")))
	// re-created content: the same bytes as a deleted version
	v1again := testFile("docs/a.txt", "version one", t0+int64(3*time.Minute), del1.ID) // by a device that saw del1
	v1fresh := testFile("docs/a.txt", "version one", t0+int64(3*time.Minute), manifest.ID{})
	empty := testFile("e", "", t0, manifest.ID{})
	delEmpty := manifest.NewTombstone("e", manifest.KindFile, empty.ID, t0+1)
	emptyAgain := testFile("e", "", t0+2, delEmpty.ID)
	delDir := manifest.NewTombstone("docs/d", manifest.KindDir, manifest.DirID(), t0+1)
	dirAgain := testDir("docs/d", t0+2, delDir.ID)

	// name of the conflict copy of version m made by device dev
	cname := func(devs []identity.DeviceID, m manifest.Manifest, dev int) string {
		return ConflictName(m.Path, m.ModTime, devs[dev])
	}

	tests := []struct {
		name        string
		setup       []step
		change      step
		claim       bool // change is an ownership announcement (Change.OwnershipOnly)
		want        Outcome
		wantPath    func(devs []identity.DeviceID) string // where the reporter's version lives
		wantCurrent manifest.ID                           // at the reported path afterwards (zero: none)
		wantOwners  []int                                 // of the reported path afterwards
		wantCopy    func(devs []identity.DeviceID) string // conflict copy path, "" for none
		copyID      manifest.ID
		copyOwners  []int
		wantErr     string // substring of Result.Err
		seqAdvance  uint64 // sequence numbers the change takes
	}{
		{name: "new path", change: step{0, v1}, want: Accepted, wantCurrent: v1.ID, wantOwners: []int{0}, seqAdvance: 1},
		{name: "same id adds owner", setup: []step{{0, v1}}, change: step{1, v1}, want: Owner,
			wantCurrent: v1.ID, wantOwners: []int{0, 1}, seqAdvance: 1},
		{name: "same id from an owner changes nothing", setup: []step{{0, v1}, {1, v1}}, change: step{0, v1}, want: Owner,
			wantCurrent: v1.ID, wantOwners: []int{0, 1}},
		{name: "base is current: accepted, owners reset", setup: []step{{0, v1}, {1, v1}}, change: step{0, v2}, want: Accepted,
			wantCurrent: v2.ID, wantOwners: []int{0}, seqAdvance: 1},
		{name: "concurrent edit, later mtime wins", setup: []step{{0, v1}, {1, v1}, {0, v2}}, change: step{1, v3new},
			want: Conflict, wantCurrent: v3new.ID, wantOwners: []int{1},
			wantCopy: func(d []identity.DeviceID) string { return cname(d, v2, 0) }, copyID: v2.ID, copyOwners: []int{0}, seqAdvance: 2},
		{name: "concurrent edit, earlier mtime becomes the copy", setup: []step{{0, v1}, {1, v1}, {0, v2}}, change: step{1, v3old},
			want: Conflict, wantPath: func(d []identity.DeviceID) string { return cname(d, v3old, 1) },
			wantCurrent: v2.ID, wantOwners: []int{0},
			wantCopy: func(d []identity.DeviceID) string { return cname(d, v3old, 1) }, copyID: v3old.ID, copyOwners: []int{1}, seqAdvance: 1},
		{name: "concurrent edit, same mtime keeps current", setup: []step{{0, v1}, {1, v1}, {0, v2}}, change: step{1, v3tie},
			want: Conflict, wantPath: func(d []identity.DeviceID) string { return cname(d, v3tie, 1) },
			wantCurrent: v2.ID, wantOwners: []int{0},
			wantCopy: func(d []identity.DeviceID) string { return cname(d, v3tie, 1) }, copyID: v3tie.ID, copyOwners: []int{1}, seqAdvance: 1},
		{name: "conflict name taken by another version gets a suffix",
			setup: []step{{0, v1}, {1, v1}, {0, v2}, {2, func() manifest.Manifest {
				m := testFile("x", "squatter", t0, manifest.ID{})
				return m
			}()}}, // placeholder replaced below
			change: step{1, v3old}, want: Conflict, wantCurrent: v2.ID, wantOwners: []int{0},
			wantPath: func(d []identity.DeviceID) string { return strings.TrimSuffix(cname(d, v3old, 1), ".txt") + "-2.txt" },
			wantCopy: func(d []identity.DeviceID) string { return strings.TrimSuffix(cname(d, v3old, 1), ".txt") + "-2.txt" }, copyID: v3old.ID, copyOwners: []int{1}, seqAdvance: 1},
		{name: "deletion of an outdated base loses to the edit", setup: []step{{0, v1}, {1, v1}, {0, v2}}, change: step{1, del1},
			want: Rejected, wantCurrent: v2.ID, wantOwners: []int{0}, wantErr: "outdated"},
		{name: "deletion of the current version", setup: []step{{0, v1}, {0, v2}}, change: step{0, del2},
			want: Accepted, wantCurrent: del2.ID, wantOwners: []int{0}, seqAdvance: 1},
		{name: "same deletion from another device adds owner", setup: []step{{0, v1}, {1, v1}, {0, del1}}, change: step{1, del1},
			want: Owner, wantCurrent: del1.ID, wantOwners: []int{0, 1}, seqAdvance: 1},
		{name: "edit against a base deleted meanwhile wins", setup: []step{{0, v1}, {1, v1}, {0, del1}}, change: step{1, edit1},
			want: Accepted, wantCurrent: edit1.ID, wantOwners: []int{1}, seqAdvance: 1},
		// Re-created content is a new version.
		{name: "re-created by the deleting device (base = tombstone)", setup: []step{{0, v1}, {1, v1}, {0, del1}},
			change: step{0, v1again}, want: Accepted, wantCurrent: v1.ID, wantOwners: []int{0}, seqAdvance: 1},
		{name: "re-created by another device that saw the deletion", setup: []step{{0, v1}, {1, v1}, {0, del1}, {1, del1}},
			change: step{1, v1again}, want: Accepted, wantCurrent: v1.ID, wantOwners: []int{1}, seqAdvance: 1},
		{name: "re-created by a device that never had the path (zero base)", setup: []step{{0, v1}, {0, del1}},
			change: step{1, v1fresh}, want: Accepted, wantCurrent: v1.ID, wantOwners: []int{1}, seqAdvance: 1},
		{name: "edited back to a version deleted meanwhile (older base)", setup: []step{{0, v1}, {1, v1}, {0, v2}, {0, del2}},
			change: step{1, v2}, want: Accepted, wantCurrent: v2.ID, wantOwners: []int{1}, seqAdvance: 1},
		{name: "deleted again after the re-creation: same tombstone ID, accepted", setup: []step{{0, v1}, {0, del1}, {0, v1again}},
			change: step{0, del1}, want: Accepted, wantCurrent: del1.ID, wantOwners: []int{0}, seqAdvance: 1},
		{name: "re-created and deleted, re-created again", setup: []step{{0, v1}, {0, del1}, {0, v1again}, {1, v1again}, {1, del1}},
			change: step{0, v1again}, want: Accepted, wantCurrent: v1.ID, wantOwners: []int{0}, seqAdvance: 1},
		{name: "empty file re-created (base = tombstone)", setup: []step{{0, empty}, {1, empty}, {0, delEmpty}},
			change: step{1, emptyAgain}, want: Accepted, wantCurrent: empty.ID, wantOwners: []int{1}, seqAdvance: 1},
		{name: "empty file re-created (zero base)", setup: []step{{0, empty}, {0, delEmpty}},
			change: step{1, empty}, want: Accepted, wantCurrent: empty.ID, wantOwners: []int{1}, seqAdvance: 1},
		{name: "directory deleted then re-created (base = tombstone)", setup: []step{{0, dirA}, {1, dirA}, {0, delDir}},
			change: step{0, dirAgain}, want: Accepted, wantCurrent: manifest.DirID(), wantOwners: []int{0}, seqAdvance: 1},
		{name: "directory deleted then re-created (zero base)", setup: []step{{0, dirA}, {0, delDir}},
			change: step{1, dirA}, want: Accepted, wantCurrent: manifest.DirID(), wantOwners: []int{1}, seqAdvance: 1},
		// Ownership announcements never create, change or resurrect a version.
		{name: "announcement of the current version", setup: []step{{0, v1}}, change: step{1, v1}, claim: true,
			want: Owner, wantCurrent: v1.ID, wantOwners: []int{0, 1}, seqAdvance: 1},
		{name: "announcement from an owner changes nothing", setup: []step{{0, v1}, {1, v1}}, change: step{1, v1}, claim: true,
			want: Owner, wantCurrent: v1.ID, wantOwners: []int{0, 1}},
		{name: "announcement of a deleted new file (zero base)", setup: []step{{0, v1}, {0, del1}}, change: step{1, v1}, claim: true,
			want: Rejected, wantCurrent: del1.ID, wantOwners: []int{0}, wantErr: "superseded"},
		{name: "announcement of a re-created version deleted again (base = tombstone)",
			setup:  []step{{0, v1}, {0, del1}, {0, v1again}, {0, del1}},
			change: step{1, v1again}, claim: true,
			want: Rejected, wantCurrent: del1.ID, wantOwners: []int{0}, wantErr: "superseded"},
		{name: "the same as a local report: re-created content, accepted",
			setup:  []step{{0, v1}, {0, del1}, {0, v1again}, {0, del1}},
			change: step{1, v1again},
			want:   Accepted, wantCurrent: v1.ID, wantOwners: []int{1}, seqAdvance: 1},
		{name: "announcement of a replaced version: no conflict", setup: []step{{0, v1}, {0, v2}}, change: step{1, v1}, claim: true,
			want: Rejected, wantCurrent: v2.ID, wantOwners: []int{0}, wantErr: "superseded"},
		{name: "announcement of a concurrent version: no conflict copy", setup: []step{{0, v1}, {0, v2}}, change: step{1, v3new}, claim: true,
			want: Rejected, wantCurrent: v2.ID, wantOwners: []int{0}, wantErr: "superseded",
			wantCopy: func(d []identity.DeviceID) string { return cname(d, v3new, 1) }},
		{name: "announcement of an unknown path", change: step{1, v1}, claim: true,
			want: Rejected, wantErr: "superseded"},
		{name: "announcement of a deletion that is current", setup: []step{{0, v1}, {0, del1}}, change: step{1, del1}, claim: true,
			want: Owner, wantCurrent: del1.ID, wantOwners: []int{0, 1}, seqAdvance: 1},
		{name: "deletion of an unknown path", change: step{0, del1}, want: Rejected, wantErr: "does not know"},
		{name: "unknown path with a base: only version, accepted", change: step{1, orphan}, want: Accepted,
			wantCurrent: orphan.ID, wantOwners: []int{1}, seqAdvance: 1},
		{name: "directory reported twice adds owner", setup: []step{{0, dirA}}, change: step{1, dirA}, want: Owner,
			wantCurrent: manifest.DirID(), wantOwners: []int{0, 1}, seqAdvance: 1},
		{name: "file against a directory: directory keeps the name", setup: []step{{0, dirA}}, change: step{1, fileD}, want: Conflict,
			wantPath: func(d []identity.DeviceID) string { return cname(d, fileD, 1) }, wantCurrent: manifest.DirID(), wantOwners: []int{0},
			wantCopy: func(d []identity.DeviceID) string { return cname(d, fileD, 1) }, copyID: fileD.ID, copyOwners: []int{1}, seqAdvance: 1},
		{name: "directory against a file: directory takes the name", setup: []step{{0, fileD}}, change: step{1, dirStale}, want: Conflict,
			wantCurrent: manifest.DirID(), wantOwners: []int{1},
			wantCopy: func(d []identity.DeviceID) string { return cname(d, fileD, 0) }, copyID: fileD.ID, copyOwners: []int{0}, seqAdvance: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			devs, nums := addTestMembers(t, s, 3)
			for _, st := range tt.setup {
				m := st.m
				if m.Path == "x" { // squatter: another version under the conflict name
					m = testFile(cname(devs, v3old, 1), "squatter", t0, manifest.ID{})
				}
				if _, err := s.apply("", nums[st.dev], reports(m)); err != nil {
					t.Fatal(err)
				}
			}
			before := s.current()
			rs, err := s.apply("", nums[tt.change.dev], []Change{{New: tt.change.m, OwnershipOnly: tt.claim}})
			if err != nil {
				t.Fatal(err)
			}
			r := rs[0]
			if r.Outcome != tt.want {
				t.Fatalf("outcome %v (err %v), want %v", r.Outcome, r.Err, tt.want)
			}
			if got := s.current() - before; got != tt.seqAdvance {
				t.Errorf("sequence advanced by %d, want %d", got, tt.seqAdvance)
			}
			if tt.wantErr == "" && r.Err != nil || tt.wantErr != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tt.wantErr)) {
				t.Errorf("Err = %v, want containing %q", r.Err, tt.wantErr)
			}
			wantPath := tt.change.m.Path
			if tt.wantPath != nil {
				wantPath = tt.wantPath(devs)
			}
			if r.Outcome != Rejected && r.Path != wantPath {
				t.Errorf("Result.Path = %q, want %q", r.Path, wantPath)
			}
			if r.Outcome != Rejected && r.Seq == 0 {
				t.Errorf("Result.Seq = 0")
			}
			if r.CurrentID != tt.wantCurrent {
				t.Errorf("Result.Current.ID = %s, want %s", r.CurrentID.Short(), tt.wantCurrent.Short())
			}
			checkEntry(t, s, devs, tt.change.m.Path, tt.wantCurrent, tt.wantOwners)
			if tt.wantCopy != nil {
				checkEntry(t, s, devs, tt.wantCopy(devs), tt.copyID, tt.copyOwners)
			}
		})
	}
}

func checkEntry(t *testing.T, s *store, devs []identity.DeviceID, path string, id manifest.ID, owners []int) {
	t.Helper()
	e, ok, err := s.lookup("", path)
	if err != nil {
		t.Fatal(err)
	}
	if id.IsZero() {
		if ok {
			t.Errorf("%q exists (%s), want none", path, e.Manifest.ID.Short())
		}
		return
	}
	if !ok {
		t.Fatalf("%q: no entry", path)
	}
	if e.Manifest.ID != id || e.Manifest.Path != path {
		t.Errorf("%q: entry %q %s, want %s", path, e.Manifest.Path, e.Manifest.ID.Short(), id.Short())
	}
	var want []identity.DeviceID
	for _, o := range owners {
		want = append(want, devs[o])
	}
	got := slices.Clone(e.Owners)
	slices.SortFunc(got, identity.DeviceID.Compare)
	slices.SortFunc(want, identity.DeviceID.Compare)
	if !slices.Equal(got, want) {
		t.Errorf("%q: %d owners %v, want %v", path, len(got), got, want)
	}
}

func TestApplyBatchSamePathInOrder(t *testing.T) {
	s := openTestStore(t)
	n, _, err := s.addMember(newTestIdentity(t).ID)
	if err != nil {
		t.Fatal(err)
	}
	v1 := testFile("a", "one", t0, manifest.ID{})
	v2 := testFile("a", "two", t0+1, v1.ID)
	rs, err := s.apply("f", n, reports(v1, v2))
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Outcome != Accepted || rs[1].Outcome != Accepted || rs[1].Seq != 2 {
		t.Fatalf("results %+v", rs)
	}
	// the other folder does not see it
	if _, ok, _ := s.lookup("", "a"); ok {
		t.Fatal("folder isolation broken")
	}
}

func TestConflictName(t *testing.T) {
	var dev identity.DeviceID
	dev[0] = 0xff
	short := dev.Short()
	ts := "20260102-030405"
	tests := []struct{ path, want string }{
		{"a.txt", "a.sync-conflict-" + ts + "-" + short + ".txt"},
		{"dir/a.tar.gz", "dir/a.tar.sync-conflict-" + ts + "-" + short + ".gz"},
		{"Makefile", "Makefile.sync-conflict-" + ts + "-" + short},
		{"x/.bashrc", "x/.bashrc.sync-conflict-" + ts + "-" + short},
		{"a.b/c", "a.b/c.sync-conflict-" + ts + "-" + short},
	}
	for _, tt := range tests {
		if got := ConflictName(tt.path, t0, dev); got != tt.want {
			t.Errorf("ConflictName(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestApplyConcurrentGroupCommit(t *testing.T) {
	s := openTestStore(t)
	const writers, batches, per = 8, 20, 10
	nums := make([]uint32, writers)
	for i := range nums {
		nums[i], _, _ = s.addMember(newTestIdentity(t).ID)
	}
	seqs := make(chan uint64, writers*batches*per)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				batch := make([]manifest.Manifest, per)
				for i := range batch {
					batch[i] = loadManifest((w*batches+b)*per + i)
				}
				rs, err := s.apply("", nums[w], reports(batch...))
				if err != nil {
					t.Error(err)
					return
				}
				for _, r := range rs {
					if r.Outcome != Accepted {
						t.Errorf("%s: %v", r.Path, r.Outcome)
					}
					seqs <- r.Seq
				}
			}
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for q := range seqs {
		if seen[q] {
			t.Fatalf("sequence number %d assigned twice", q)
		}
		seen[q] = true
	}
	if want := uint64(writers * batches * per); uint64(len(seen)) != want || s.current() != want {
		t.Fatalf("%d distinct seqs, current %d, want %d", len(seen), s.current(), want)
	}
}
