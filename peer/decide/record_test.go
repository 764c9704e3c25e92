package decide

import (
	"reflect"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// TestRecord: the tracker's answer to each reported change, and what the
// index records of it: accepted edits and deletions are staged (a deletion
// also leaves the chunk store) and make older wants of the path obsolete;
// a conflict our version lost needs its copy first (and obsoletes nothing:
// the winner must still arrive); a refused deletion (delete vs edit) loses
// to the edit; any other refusal is remembered, not staged.
func TestRecord(t *testing.T) {
	edit := based(file(t, "a.txt", "two"), file(t, "a.txt", "one").ID)
	del := manifest.NewTombstone("b.txt", manifest.KindFile, file(t, "b.txt", "b").ID, 9)
	tests := []struct {
		name         string
		change       Change
		res          tracker.Result
		wantStep     RecordStep
		wantObsolete []index.Done
	}{
		{name: "accepted edit", change: Change{Manifest: edit, Stat: stat(2)},
			res:          tracker.Result{Outcome: tracker.Accepted, Seq: 7},
			wantStep:     RecordStep{Kind: RecordLocal, Entry: index.Entry{Manifest: edit, Stat: stat(2)}},
			wantObsolete: []index.Done{{Path: "a.txt", Before: 7}}},
		{name: "already the current version: owner", change: Change{Manifest: edit, Stat: stat(2)},
			res:          tracker.Result{Outcome: tracker.Owner, Seq: 8},
			wantStep:     RecordStep{Kind: RecordLocal, Entry: index.Entry{Manifest: edit, Stat: stat(2)}},
			wantObsolete: []index.Done{{Path: "a.txt", Before: 8}}},
		{name: "accepted deletion leaves the chunk store", change: Change{Manifest: del},
			res:          tracker.Result{Outcome: tracker.Accepted, Seq: 9},
			wantStep:     RecordStep{Kind: RecordLocal, Entry: index.Entry{Manifest: del}, Unindex: true},
			wantObsolete: []index.Done{{Path: "b.txt", Before: 9}}},
		{name: "conflict, our version keeps the name", change: Change{Manifest: edit, Stat: stat(2)},
			res:          tracker.Result{Outcome: tracker.Conflict, Seq: 10, Path: "a.txt"},
			wantStep:     RecordStep{Kind: RecordConflict, Entry: index.Entry{Manifest: edit, Stat: stat(2)}},
			wantObsolete: []index.Done{{Path: "a.txt", Before: 10}}},
		{name: "conflict, no copy named", change: Change{Manifest: edit, Stat: stat(2)},
			res:          tracker.Result{Outcome: tracker.Conflict, Seq: 11},
			wantStep:     RecordStep{Kind: RecordConflict, Entry: index.Entry{Manifest: edit, Stat: stat(2)}},
			wantObsolete: []index.Done{{Path: "a.txt", Before: 11}}},
		{name: "conflict, our version lost the name: copy first", change: Change{Manifest: edit, Stat: stat(2)},
			res: tracker.Result{Outcome: tracker.Conflict, Seq: 12, Path: "a.sync-conflict-1.txt"},
			wantStep: RecordStep{Kind: RecordConflictCopy, Entry: index.Entry{Manifest: edit, Stat: stat(2)},
				CopyTo: "a.sync-conflict-1.txt"}},
		{name: "delete vs edit: the deletion loses", change: Change{Manifest: del},
			res:      tracker.Result{Outcome: tracker.Rejected},
			wantStep: RecordStep{Kind: RecordDeletionLost, Entry: index.Entry{Manifest: del}, Unindex: true}},
		{name: "rejected edit: remembered, nothing staged", change: Change{Manifest: edit, Stat: stat(2)},
			res:      tracker.Result{Outcome: tracker.Rejected},
			wantStep: RecordStep{Kind: RecordRejected}},
		{name: "outdated re-sent version: recorded as synced, the newer one replaces it", change: Change{Manifest: edit, Stat: stat(2)},
			res:      tracker.Result{Outcome: tracker.Outdated},
			wantStep: RecordStep{Kind: RecordOutdated, Entry: index.Entry{Manifest: edit, Stat: stat(2)}}},
		{name: "outdated re-sent deletion: the tombstone recorded, no stat", change: Change{Manifest: del},
			res:      tracker.Result{Outcome: tracker.Outdated},
			wantStep: RecordStep{Kind: RecordOutdated, Entry: index.Entry{Manifest: del}, Unindex: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps, obsolete := Record([]Change{tt.change}, []tracker.Result{tt.res})
			if len(steps) != 1 || !reflect.DeepEqual(steps[0], tt.wantStep) {
				t.Errorf("steps = %+v, want [%+v]", steps, tt.wantStep)
			}
			if !reflect.DeepEqual(obsolete, tt.wantObsolete) {
				t.Errorf("obsolete = %+v, want %+v", obsolete, tt.wantObsolete)
			}
		})
	}
}
