package tracker

import (
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// uStep is one change by device dev, with its unacknowledged reports.
type uStep struct {
	dev     int
	m       manifest.Manifest
	unacked []manifest.ID
	claim   bool // an ownership announcement
}

// copyWant is what a conflict copy should hold afterwards: a live version
// with owners, or (deleted) a tombstone.
type copyWant struct {
	path    func(devs []identity.DeviceID) string
	id      manifest.ID
	owners  []int
	deleted bool
}

// TestApplyUnackedAndConflictOrigins covers rules 0, 5a and 5b of apply:
// what a peer that was stopped between the tracker's commit and its own
// record sends next, and conflict copies whose owners no longer hold them.
// Each case names what the rules before them did (a spurious conflict
// copy, or a copy wanted for ever).
func TestApplyUnackedAndConflictOrigins(t *testing.T) {
	const p = "notes.txt"
	minute := int64(time.Minute)
	v1 := testFile(p, "v1", t0, manifest.ID{})
	v2 := testFile(p, "v2 by device 0", t0+minute, v1.ID)
	v3 := testFile(p, "v3 by device 0, edited after v2 while its answer was lost", t0+2*minute, v1.ID)
	w3 := testFile(p, "w3 by device 1, based on v2", t0+3*minute, v2.ID)
	x2 := testFile(p, "x2 by device 1, concurrent with v2, later", t0+5*minute, v1.ID)
	b1 := testFile(p, "device 1's own first version, newest", t0+10*minute, manifest.ID{})
	a2 := testFile(p, "device 0's edit made offline over v1", t0+minute, v1.ID)
	gone1 := manifest.NewTombstone(p, manifest.KindFile, v1.ID, t0+minute)
	again1 := testFile(p, "v1", t0+2*minute, gone1.ID) // v1's bytes again: v1's file ID
	cname := func(m manifest.Manifest, dev int) func([]identity.DeviceID) string {
		return func(devs []identity.DeviceID) string { return ConflictName(m.Path, m.ModTime, devs[dev]) }
	}

	tests := []struct {
		name     string
		setup    []uStep
		change   uStep
		want     Outcome
		wantPath func(devs []identity.DeviceID) string // where the reporter's version lives ("" : its path)
		current  manifest.ID
		owners   []int
		copies   []copyWant
		noCopyOf *manifest.Manifest // no conflict copy of this version by the reporter
	}{
		{
			// Device 0 reported v2 (accepted), was killed before recording
			// it, and its user edited again: v3 still has base v1.
			name:    "5a: the next edit fast-forwards the version reported before the stop",
			setup:   []uStep{{dev: 0, m: v1}, {dev: 0, m: v2}},
			change:  uStep{dev: 0, m: v3, unacked: []manifest.ID{v2.ID}},
			want:    Accepted,
			current: v3.ID, owners: []int{0},
			noCopyOf: &v2,
		},
		{
			// Device 0 deleted v1 (answer lost in a kill), then wrote v1's
			// bytes again: the same file ID as a report still unanswered,
			// but built on the deletion, so a new version, not a resend.
			name:    "5: content re-created over its own unanswered deletion is accepted, not taken as sent again",
			setup:   []uStep{{dev: 0, m: v1}, {dev: 0, m: gone1}},
			change:  uStep{dev: 0, m: again1, unacked: []manifest.ID{gone1.ID, v1.ID}},
			want:    Accepted,
			current: again1.ID, owners: []int{0},
		},
		{
			// Device 1 built on v2 meanwhile; device 0 sends v2 again.
			name:    "5b: a version sent again that a later one replaced is outdated",
			setup:   []uStep{{dev: 0, m: v1}, {dev: 1, m: v1}, {dev: 0, m: v2}, {dev: 1, m: w3}},
			change:  uStep{dev: 0, m: v2, unacked: []manifest.ID{v2.ID}},
			want:    Outdated,
			current: w3.ID, owners: []int{1},
			noCopyOf: &v2,
		},
		{
			// v2 lost a conflict to x2 while device 0 was down; sending v2
			// again names the existing copy instead of making another.
			name:     "5b: a version sent again that lost a conflict is told its copy",
			setup:    []uStep{{dev: 0, m: v1}, {dev: 1, m: v1}, {dev: 1, m: x2}, {dev: 0, m: v2}},
			change:   uStep{dev: 0, m: v2, unacked: []manifest.ID{v2.ID}},
			want:     Conflict,
			wantPath: cname(v2, 0),
			current:  x2.ID, owners: []int{1},
			copies: []copyWant{{path: cname(v2, 0), id: v2.ID, owners: []int{0}}},
		},
		{
			name:    "5b: a version sent again that the tracker never saw follows the ordinary rules",
			setup:   []uStep{{dev: 0, m: v1}},
			change:  uStep{dev: 0, m: v2, unacked: []manifest.ID{v2.ID}},
			want:    Accepted,
			current: v2.ID, owners: []int{0},
		},
		{
			// TestConflictCopyNobodyHas (peer/simtest) at the tracker:
			// device 1's newer b1 moved v1 to a copy owned by device 0,
			// which then replaced v1 by a2 before it built the copy.
			name:     "0: a copy whose only owner edited the version away is deleted",
			setup:    []uStep{{dev: 0, m: v1}, {dev: 1, m: b1}},
			change:   uStep{dev: 0, m: a2},
			want:     Conflict,
			wantPath: cname(a2, 0),
			current:  b1.ID, owners: []int{1},
			copies: []copyWant{
				{path: cname(v1, 0), deleted: true},
				{path: cname(a2, 0), id: a2.ID, owners: []int{0}},
			},
		},
		{
			name:     "0: a copy its owner announced is kept",
			setup:    []uStep{{dev: 0, m: v1}, {dev: 1, m: b1}, {dev: 0, m: withPath(v1, "COPY"), claim: true}},
			change:   uStep{dev: 0, m: a2},
			want:     Conflict,
			wantPath: cname(a2, 0),
			current:  b1.ID, owners: []int{1},
			copies: []copyWant{{path: cname(v1, 0), id: v1.ID, owners: []int{0}}},
		},
		{
			name:     "0: a copy keeps the owners that did not edit it away",
			setup:    []uStep{{dev: 0, m: v1}, {dev: 2, m: v1}, {dev: 1, m: b1}},
			change:   uStep{dev: 0, m: a2},
			want:     Conflict,
			wantPath: cname(a2, 0),
			current:  b1.ID, owners: []int{1},
			copies: []copyWant{{path: cname(v1, 0), id: v1.ID, owners: []int{2}}},
		},
		{
			// Device 0's v2 lost to x2 and device 0 never heard: its user
			// edited on (v3, base v1). Its copy of v2 can never be built.
			name:   "0: the copy of an unacknowledged report is released by the next edit",
			setup:  []uStep{{dev: 0, m: v1}, {dev: 1, m: v1}, {dev: 1, m: x2}, {dev: 0, m: v2}},
			change: uStep{dev: 0, m: withMtime(v3, t0+9*minute), unacked: []manifest.ID{v2.ID}},
			// and v3, newer than x2, takes the name: x2 moves to its copy.
			want:    Conflict,
			current: withMtime(v3, t0+9*minute).ID,
			owners:  []int{0},
			copies:  []copyWant{{path: cname(v2, 0), deleted: true}, {path: cname(x2, 1), id: x2.ID, owners: []int{1}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			devs, nums := addTestMembers(t, s, 3)
			apply := func(st uStep) Result {
				m := st.m
				if m.Path == "COPY" {
					m.Path = cname(v1, 0)(devs)
				}
				rs, err := s.apply("", nums[st.dev], []Change{{New: m, Unacked: st.unacked, OwnershipOnly: st.claim}})
				if err != nil {
					t.Fatal(err)
				}
				return rs[0]
			}
			for _, st := range tt.setup {
				apply(st)
			}
			r := apply(tt.change)
			if r.Outcome != tt.want {
				t.Fatalf("outcome %v (err %v), want %v", r.Outcome, r.Err, tt.want)
			}
			wantPath := tt.change.m.Path
			if tt.wantPath != nil {
				wantPath = tt.wantPath(devs)
			}
			if r.Path != wantPath {
				t.Errorf("Result.Path = %q, want %q", r.Path, wantPath)
			}
			checkEntry(t, s, devs, p, tt.current, tt.owners)
			for _, c := range tt.copies {
				if c.deleted {
					e, ok, err := s.lookup("", c.path(devs))
					if err != nil || !ok || !e.Manifest.Deleted {
						t.Errorf("%s: entry %+v (ok %v, err %v), want a tombstone", c.path(devs), e.Manifest, ok, err)
					}
					continue
				}
				checkEntry(t, s, devs, c.path(devs), c.id, c.owners)
			}
			if tt.noCopyOf != nil {
				if _, ok, _ := s.lookup("", cname(*tt.noCopyOf, 0)(devs)); ok {
					t.Errorf("a conflict copy of the reporter's own version was made")
				}
			}
		})
	}
}

func withPath(m manifest.Manifest, p string) manifest.Manifest { m.Path = p; return m }

func withMtime(m manifest.Manifest, mt int64) manifest.Manifest { m.ModTime = mt; return m }

// TestApplyUnackedIgnoredForDirectories: every directory has the same ID,
// so a directory listed as an unacknowledged report proves nothing; a
// directory made again after another device removed it is accepted (rule
// 6), never told OUTDATED (found by the simulation, seed 3: the peer kept
// the directory the others had removed).
func TestApplyUnackedIgnoredForDirectories(t *testing.T) {
	s := openTestStore(t)
	_, nums := addTestMembers(t, s, 2)
	dir := testDir("e0", t0, manifest.ID{})
	rm := manifest.NewTombstone("e0", manifest.KindDir, manifest.DirID(), t0+1)
	for i, c := range []struct {
		dev uint32
		m   manifest.Manifest
	}{{nums[0], dir}, {nums[1], rm}} {
		if rs, err := s.apply("", c.dev, reports(c.m)); err != nil || rs[0].Outcome != Accepted {
			t.Fatalf("setup %d: %+v, %v", i, rs, err)
		}
	}
	again := testDir("e0", t0+2, manifest.ID{})
	rs, err := s.apply("", nums[0], []Change{{New: again, Unacked: []manifest.ID{manifest.DirID()}}})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Outcome != Accepted {
		t.Fatalf("outcome %v (%v), want accepted", rs[0].Outcome, rs[0].Err)
	}
}
