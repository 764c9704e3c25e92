package tracker

import (
	"bytes"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/manifest/manifestpb"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// rstep is one report: an ordinary change, or with re set a re-announced one
// with its ancestors.
type rstep struct {
	dev int
	m   manifest.Manifest
	re  bool
	anc []manifest.ID
}

func (st rstep) change() Change {
	return Change{New: st.m, Ancestors: st.anc, reannounce: st.re}
}

// TestReannounceRules: every re-announce rule (reannounceOne), with the
// outcome, the current version afterwards and what the path's history then
// proves. The path's versions: v0 -> v1 -> v2 -> v3, each with the previous
// one as base.
func TestReannounceRules(t *testing.T) {
	min := int64(time.Minute)
	v0 := testFile("a", "v0", t0, manifest.ID{})
	v1 := testFile("a", "v1", t0+min, v0.ID)
	v2 := testFile("a", "v2", t0+2*min, v1.ID)
	v3 := testFile("a", "v3", t0+3*min, v2.ID)
	del0 := manifest.NewTombstone("a", manifest.KindFile, v0.ID, t0+4*min)
	del1 := manifest.NewTombstone("a", manifest.KindFile, v1.ID, t0+4*min)
	del3 := manifest.NewTombstone("a", manifest.KindFile, v3.ID, t0+5*min)
	side := testFile("a", "concurrent with v1, later", t0+10*min, v0.ID)
	sideOld := testFile("a", "concurrent with v1, earlier", t0-min, v0.ID)
	back := testFile("a", "v0", t0+6*min, v1.ID) // v1 reverted: v0's content (and ID) again
	// x is deleted (gone), written again with the same bytes (x2: the same
	// ID, base gone) and deleted again (the same tombstone ID as gone).
	x := testFile("a", "x", t0, manifest.ID{})
	gone := manifest.NewTombstone("a", manifest.KindFile, x.ID, t0+min)
	x2 := testFile("a", "x", t0+2*min, gone.ID)
	dir := testDir("d", t0, manifest.ID{})
	dirGone := manifest.NewTombstone("d", manifest.KindDir, manifest.DirID(), t0+min)
	// re re-announces m with the versions it replaced on the peer, newest first.
	re := func(dev int, m manifest.Manifest, before ...manifest.Manifest) rstep {
		st := rstep{dev: dev, m: m, re: true}
		for _, b := range before {
			st.anc = append(st.anc, b.ID)
		}
		return st
	}
	up := func(dev int, m manifest.Manifest) rstep { return rstep{dev: dev, m: m} }

	tests := []struct {
		name        string
		setup       []rstep
		change      rstep
		want        Outcome
		wantCurrent manifest.ID // at the path afterwards
		wantOwners  []int
		copyOf      *manifest.Manifest // a conflict copy of this version (by copyDev) must exist
		copyDev     int
		wantKnown   []manifest.ID // in the path's history afterwards
		seqAdvance  uint64
	}{
		{name: "R1 unknown path: the version is accepted", change: re(1, v2, v1, v0),
			want: Accepted, wantCurrent: v2.ID, wantOwners: []int{1}, wantKnown: []manifest.ID{v1.ID, v0.ID}, seqAdvance: 1},
		{name: "R1 unknown path: a tombstone is accepted (the deletion is re-learned)", change: re(1, del3, v2, v1, v0),
			want: Accepted, wantCurrent: del3.ID, wantOwners: []int{1}, wantKnown: []manifest.ID{v3.ID, v2.ID}, seqAdvance: 1},
		{name: "R2 same version: owner", setup: []rstep{up(0, v0)}, change: re(1, v0),
			want: Owner, wantCurrent: v0.ID, wantOwners: []int{0, 1}, seqAdvance: 1},
		{name: "R2 same version from an owner: nothing changes, ancestors learned", setup: []rstep{up(0, v3)}, change: re(0, v3, v2, v1, v0),
			want: Owner, wantCurrent: v3.ID, wantOwners: []int{0}, wantKnown: []manifest.ID{v2.ID, v1.ID, v0.ID}},
		{name: "R3 one version ahead (base)", setup: []rstep{up(0, v0), up(0, v1)}, change: re(1, v2),
			want: Accepted, wantCurrent: v2.ID, wantOwners: []int{1}, wantKnown: []manifest.ID{v1.ID, v0.ID}, seqAdvance: 1},
		{name: "R3 several versions ahead (ancestors)", setup: []rstep{up(0, v0), up(0, v1)}, change: re(1, v3, v2, v1, v0),
			want: Accepted, wantCurrent: v3.ID, wantOwners: []int{1}, wantKnown: []manifest.ID{v2.ID, v1.ID}, seqAdvance: 1},
		{name: "R3 a deletion made after several edits is accepted", setup: []rstep{up(0, v0)}, change: re(1, del3, v2, v1, v0),
			want: Accepted, wantCurrent: del3.ID, wantOwners: []int{1}, wantKnown: []manifest.ID{v3.ID, v0.ID}, seqAdvance: 1},
		{name: "R4 one version behind (the current version's base)", setup: []rstep{up(0, v0), up(0, v1)}, change: re(1, v0),
			want: Outdated, wantCurrent: v1.ID, wantOwners: []int{0}},
		{name: "R4 several versions behind (path history)", setup: []rstep{up(0, v0), up(0, v1), up(0, v2), up(0, v3)}, change: re(1, v0),
			want: Outdated, wantCurrent: v3.ID, wantOwners: []int{0}},
		{name: "R4 a deleted version does not come back", setup: []rstep{up(0, v0), up(0, v1), up(0, del1)}, change: re(1, v1, v0),
			want: Outdated, wantCurrent: del1.ID, wantOwners: []int{0}},
		{name: "R4 what another peer's ancestors proved (it reconnected first)", setup: []rstep{re(0, v3, v2, v1, v0)}, change: re(1, v1, v0),
			want: Outdated, wantCurrent: v3.ID, wantOwners: []int{0}},
		{name: "R4 a directory deleted since", setup: []rstep{up(0, dir), up(0, dirGone)}, change: re(1, dir),
			want: Outdated, wantCurrent: dirGone.ID, wantOwners: []int{0}},
		{name: "R5 several versions ahead without ancestors: a conflict, both kept", setup: []rstep{up(0, v0), up(0, v1)}, change: re(1, v3),
			want: Conflict, wantCurrent: v3.ID, wantOwners: []int{1}, copyOf: &v1, copyDev: 0, seqAdvance: 2},
		{name: "R5 concurrent version, later: it keeps the name, both kept", setup: []rstep{up(0, v0), up(0, v1)}, change: re(1, side, v0),
			want: Conflict, wantCurrent: side.ID, wantOwners: []int{1}, copyOf: &v1, copyDev: 0, seqAdvance: 2},
		{name: "R5 concurrent version, earlier: it becomes the copy", setup: []rstep{up(0, v0), up(0, v1)}, change: re(1, sideOld, v0),
			want: Conflict, wantCurrent: v1.ID, wantOwners: []int{0}, copyOf: &sideOld, copyDev: 1, seqAdvance: 1},
		{name: "R5 an edit beats a concurrent deletion", setup: []rstep{up(0, v0), up(0, del0)}, change: re(1, side, v0),
			want: Accepted, wantCurrent: side.ID, wantOwners: []int{1}, seqAdvance: 1},
		{name: "R5 a deletion of another version loses to the edits", setup: []rstep{up(0, v0), up(0, v1), up(0, v2)}, change: re(1, del0),
			want: Rejected, wantCurrent: v2.ID, wantOwners: []int{0}},
		{name: "R5 a deletion of the version only the reporter is listed as holding is accepted (nobody could serve it)", setup: []rstep{up(0, v0), up(0, v1), up(0, v2)}, change: re(0, del0),
			want: Accepted, wantCurrent: del0.ID, wantOwners: []int{0}, seqAdvance: 1},
		{name: "R5 a deletion of another version by one of its owners: rejected, and the reporter no longer listed", setup: []rstep{up(0, v0), up(0, v1), re(1, v1)}, change: re(1, del0),
			want: Rejected, wantCurrent: v1.ID, wantOwners: []int{0}, seqAdvance: 1},
		{name: "R4 an owner behind is no longer listed as holding the current version", setup: []rstep{up(0, v0), up(0, v1), re(1, v1)}, change: re(1, v0),
			want: Outdated, wantCurrent: v1.ID, wantOwners: []int{0}, seqAdvance: 1},
		{name: "both newer, chains order: a reverted file, the peer held v0 then v1 only (behind): outdated", setup: []rstep{up(0, v0), up(0, v1), up(0, back)}, change: re(1, v1, v0),
			want: Outdated, wantCurrent: back.ID, wantOwners: []int{0}},
		{name: "both newer, chains order: v0 v1 v0 v1 vs the revert to v0 (ahead): accepted", setup: []rstep{up(0, v0), up(0, v1), up(0, back)}, change: re(1, v1, back, v1, v0),
			want: Accepted, wantCurrent: v1.ID, wantOwners: []int{1}, wantKnown: []manifest.ID{v0.ID}, seqAdvance: 1},
		{name: "R5 both newer, chains disagree (the peer lost a repeat): a conflict, both kept", setup: []rstep{up(0, v0), up(0, v1), up(0, back)}, change: re(1, v1, v0, v1),
			want: Conflict, wantCurrent: back.ID, wantOwners: []int{0}, copyOf: &v1, copyDev: 1, seqAdvance: 1},
		{name: "both newer, chains order: a reverted file re-learned first, then the peer behind it: outdated", setup: []rstep{re(0, back, v1, v0)}, change: re(1, v1, v0),
			want: Outdated, wantCurrent: back.ID, wantOwners: []int{0}},
		{name: "both newer, chains order: deleted, re-created, deleted again vs the re-created version (ahead): the deletion is accepted", setup: []rstep{up(0, x), up(0, gone), up(0, x2)}, change: re(1, gone, x, gone, x),
			want: Accepted, wantCurrent: gone.ID, wantOwners: []int{1}, wantKnown: []manifest.ID{x.ID}, seqAdvance: 1},
		{name: "both newer, chains order: the first deletion vs the re-created version (behind): outdated", setup: []rstep{up(0, x), up(0, gone), up(0, x2)}, change: re(1, gone, x),
			want: Outdated, wantCurrent: x2.ID, wantOwners: []int{0}},
		{name: "both newer, chains order: the re-created version vs its second deletion, re-announced first (behind): outdated", setup: []rstep{up(0, x), up(0, gone), up(0, x2), re(1, gone, x, gone, x)}, change: re(0, x2, gone, x),
			want: Outdated, wantCurrent: gone.ID, wantOwners: []int{1}},
		{name: "both newer, chains order: the re-created version vs the first deletion, re-announced first (ahead): accepted", setup: []rstep{re(1, gone, x)}, change: re(0, x2, gone, x),
			want: Accepted, wantCurrent: x2.ID, wantOwners: []int{0}, wantKnown: []manifest.ID{x.ID, gone.ID}, seqAdvance: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			devs, nums := addTestMembers(t, s, 2)
			for _, st := range tt.setup {
				if _, err := s.apply("", nums[st.dev], []Change{st.change()}); err != nil {
					t.Fatal(err)
				}
			}
			before := s.current()
			rs, err := s.apply("", nums[tt.change.dev], []Change{tt.change.change()})
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
			if r.CurrentID != tt.wantCurrent {
				t.Errorf("Result.Current %s, want %s", r.CurrentID.Short(), tt.wantCurrent.Short())
			}
			path := tt.change.m.Path
			checkEntry(t, s, devs, path, tt.wantCurrent, tt.wantOwners)
			if tt.copyOf != nil {
				name := ConflictName(path, tt.copyOf.ModTime, devs[tt.copyDev])
				checkEntry(t, s, devs, name, tt.copyOf.ID, []int{tt.copyDev})
			}
			for _, id := range tt.wantKnown {
				if !historyKnows(t, s, path, id) {
					t.Errorf("history of %q lacks %s", path, id.Short())
				}
			}
		})
	}
}

// historyKnows reports whether id is in path's history (default folder).
func historyKnows(t testing.TB, s *store, path string, id manifest.ID) bool {
	t.Helper()
	var ok bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		ok = (&txn{hist: tx.Bucket(bucketHistory)}).known(path, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestHistoryKeepsTheNewest: a path's history keeps the maxHistory versions
// replaced last; other paths and folders are apart.
func TestHistoryKeepsTheNewest(t *testing.T) {
	s := openTestStore(t)
	n, _, err := s.addMember(newTestIdentity(t).ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []manifest.ID
	var base manifest.ID
	for i := range maxHistory + 8 {
		v := testFile("p", string(rune('A'+i)), t0+int64(i), base)
		if _, err := s.apply("", n, reports(v)); err != nil {
			t.Fatal(err)
		}
		ids, base = append(ids, v.ID), v.ID
	}
	if _, err := s.apply("other", n, reports(testFile("p", "elsewhere", t0, manifest.ID{}), testFile("p", "elsewhere 2", t0, manifest.Hash([]byte("x"))))); err != nil {
		t.Fatal(err)
	}
	replaced := ids[:len(ids)-1] // the last one is current
	for i, id := range replaced {
		want := i >= len(replaced)-maxHistory
		if got := historyKnows(t, s, "p", id); got != want {
			t.Errorf("version %d of %d: known %v, want %v", i, len(replaced), got, want)
		}
	}
	if historyKnows(t, s, "p", ids[len(ids)-1]) {
		t.Error("the current version is in its own history")
	}
	var keys int
	if err := s.db.View(func(tx *bolt.Tx) error {
		prefix := append(fileKey("", "p"), 0)
		c := tx.Bucket(bucketHistory).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if keys != maxHistory {
		t.Errorf("%d history records for one path, want %d", keys, maxHistory)
	}
}

// TestRecordFileID: the file ID read from an encoded record without decoding
// the manifest is the manifest's, and the field numbers match the schemas.
func TestRecordFileID(t *testing.T) {
	if n := (&trackerpb.EntryRecord{}).ProtoReflect().Descriptor().Fields().ByName("manifest").Number(); n != entryRecordFieldManifest {
		t.Fatalf("EntryRecord.manifest is field %d, want %d", n, entryRecordFieldManifest)
	}
	if n := (&manifestpb.Manifest{}).ProtoReflect().Descriptor().Fields().ByName("file_id").Number(); n != manifestFieldFileID {
		t.Fatalf("Manifest.file_id is field %d, want %d", n, manifestFieldFileID)
	}
	for _, m := range []manifest.Manifest{
		testFile("a", string(bytes.Repeat([]byte("x"), 3*manifest.MinPieceSize)), t0, manifest.Hash([]byte("b"))),
		manifest.NewTombstone("a", manifest.KindFile, manifest.Hash([]byte("b")), t0),
		testDir("d", t0, manifest.ID{}),
	} {
		mb, err := proto.Marshal(manifest.ToProto(&m))
		if err != nil {
			t.Fatal(err)
		}
		rb, err := proto.Marshal(&trackerpb.EntryRecord{Seq: 9, Owners: []uint32{1, 2}, Author: 2, Manifest: mb})
		if err != nil {
			t.Fatal(err)
		}
		id, err := recordFileID(rb)
		if err != nil || id != m.ID {
			t.Errorf("%q: %s %v, want %s", m.Path, id.Short(), err, m.ID.Short())
		}
	}
	for _, bad := range [][]byte{{0x22, 0x05, 0x01}, {0x08, 0x01}, {0xff}} {
		if _, err := recordFileID(bad); err == nil {
			t.Errorf("corrupt record %x accepted", bad)
		}
	}
}

// TestReannounceBatchOrder: a peer's whole re-announce in one batch, in path
// order, leaves the tracker with exactly the peer's versions.
func TestReannounceBatchOrder(t *testing.T) {
	s := openTestStore(t)
	n, _, err := s.addMember(newTestIdentity(t).ID)
	if err != nil {
		t.Fatal(err)
	}
	a := testFile("a", "a", t0, manifest.ID{})
	gone := manifest.NewTombstone("b", manifest.KindFile, manifest.Hash([]byte("b")), t0)
	d := testDir("d", t0, manifest.ID{})
	in := testFile("d/in", "in", t0, manifest.ID{})
	batch := []Change{{New: a, reannounce: true}, {New: gone, reannounce: true}, {New: d, reannounce: true}, {New: in, reannounce: true}}
	rs, err := s.apply("", n, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Outcome != Accepted || r.CurrentID != batch[i].New.ID {
			t.Errorf("%q: %v", batch[i].New.Path, r.Outcome)
		}
	}
	// again: every one is already current
	rs, err = s.apply("", n, batch)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rs, func(r Result) bool { return r.Outcome != Owner }) {
		return
	}
	t.Errorf("second re-announce: %+v", rs)
}
