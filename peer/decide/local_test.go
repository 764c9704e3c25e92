package decide

import (
	"reflect"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// TestLocalDiff: the scan of a folder against its index, one case a row,
// with the changes to report and the entries to restage. The rows include
// the cases the end-to-end suite covers: a rename with edits (a tombstone
// and a new path, never a move), a re-created deleted file (reported
// against the tombstone, even with the deleted content), a file replaced
// by a directory and back, a skipped (unreadable) directory whose files
// are not deleted, and the puller's own writes (busy) left alone.
func TestLocalDiff(t *testing.T) {
	const now = 99
	v1 := file(t, "a.txt", "one")
	v2 := file(t, "a.txt", "two")
	touched := v1
	touched.ModTime, touched.Exec = 7, true
	moved := file(t, "b.txt", "one, edited while renamed")
	tomb := manifest.NewTombstone("a.txt", manifest.KindFile, v1.ID, 5)
	recreated := file(t, "a.txt", "one")
	dir := manifest.NewDir("a.txt", 3)
	dirX := manifest.NewDir("x", 3)
	xFile := file(t, "x", "a file where the directory was")
	inLocked := file(t, "locked/in.txt", "in")
	tests := []struct {
		name        string
		index       view
		entries     []scan.Entry
		skipped     []scan.Skip
		busy        []string
		wantChanges []Change
		wantRestat  []index.Entry
	}{
		{name: "unchanged", index: view{{Manifest: v1, Stat: stat(1)}},
			entries: []scan.Entry{{Manifest: v1, Stat: stat(1)}}},
		{name: "same content, new stat: restaged, not reported", index: view{{Manifest: v1, Stat: stat(1)}},
			entries:    []scan.Entry{{Manifest: touched, Stat: stat(2)}},
			wantRestat: []index.Entry{{Manifest: touched, Stat: stat(2)}}},
		{name: "edited: base is the index's version", index: view{{Manifest: v1, Stat: stat(1)}},
			entries:     []scan.Entry{{Manifest: v2, Stat: stat(2), Hashed: true}},
			wantChanges: []Change{{Manifest: based(v2, v1.ID), Stat: stat(2)}}},
		{name: "new path: no base", index: view{},
			entries:     []scan.Entry{{Manifest: v1, Stat: stat(1), Hashed: true}},
			wantChanges: []Change{{Manifest: v1, Stat: stat(1)}}},
		{name: "deleted: tombstone of the indexed version", index: view{{Manifest: v1, Stat: stat(1)}},
			wantChanges: []Change{{Manifest: manifest.NewTombstone("a.txt", manifest.KindFile, v1.ID, now)}}},
		{name: "rename with edits: tombstone and a new path", index: view{{Manifest: v1, Stat: stat(1)}},
			entries: []scan.Entry{{Manifest: moved, Stat: stat(2), Hashed: true}},
			wantChanges: []Change{{Manifest: moved, Stat: stat(2)},
				{Manifest: manifest.NewTombstone("a.txt", manifest.KindFile, v1.ID, now)}}},
		{name: "re-created with the deleted content: base is the tombstone", index: view{{Manifest: tomb}},
			entries:     []scan.Entry{{Manifest: recreated, Stat: stat(3), Hashed: true}},
			wantChanges: []Change{{Manifest: based(recreated, tomb.ID), Stat: stat(3)}}},
		{name: "a tombstone not listed: nothing", index: view{{Manifest: tomb}}},
		{name: "file replaced by a directory: the directory, no stat", index: view{{Manifest: v1, Stat: stat(1)}},
			entries:     []scan.Entry{{Manifest: dir, Stat: stat(4)}},
			wantChanges: []Change{{Manifest: based(dir, v1.ID)}}},
		{name: "directory replaced by a file", index: view{{Manifest: dirX}},
			entries:     []scan.Entry{{Manifest: xFile, Stat: stat(4), Hashed: true}},
			wantChanges: []Change{{Manifest: based(xFile, dirX.ID), Stat: stat(4)}}},
		{name: "directory with a new stat: nothing", index: view{{Manifest: dirX}},
			entries: []scan.Entry{{Manifest: dirX, Stat: stat(8)}}},
		{name: "skipped directory: nothing below it deleted",
			index:   view{{Manifest: manifest.NewDir("locked", 1)}, {Manifest: inLocked, Stat: stat(1)}},
			skipped: []scan.Skip{{Path: "locked", Reason: "permission denied"}}},
		{name: "being applied: neither reported nor deleted",
			index:   view{{Manifest: v1, Stat: stat(1)}},
			entries: []scan.Entry{{Manifest: moved, Stat: stat(2), Hashed: true}},
			busy:    []string{"a.txt", "b.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LocalDiff(tt.entries, tt.skipped, tt.index.paths(), tt.index.lookup, set(tt.busy...), now)
			if !reflect.DeepEqual(got.Changes, tt.wantChanges) {
				t.Errorf("changes:\n got %+v\nwant %+v", got.Changes, tt.wantChanges)
			}
			if !reflect.DeepEqual(got.Restat, tt.wantRestat) {
				t.Errorf("restat:\n got %+v\nwant %+v", got.Restat, tt.wantRestat)
			}
		})
	}
}

// TestNeedsScanAndEdited: what one lstat says of a path against its index
// entry: whether the watcher's event is worth a scan, and whether a remote
// version may replace what is there (an edit wins).
func TestNeedsScanAndEdited(t *testing.T) {
	v1 := file(t, "a.txt", "one")
	synced := index.Entry{Manifest: v1, Stat: stat(1)}
	tomb := index.Entry{Manifest: manifest.NewTombstone("a.txt", manifest.KindFile, v1.ID, 2)}
	dir := index.Entry{Manifest: manifest.NewDir("a.txt", 1)}
	none := Disk{}
	same := Disk{Kind: DiskFile, Stat: stat(1)}
	changed := Disk{Kind: DiskFile, Stat: stat(2)}
	aDir := Disk{Kind: DiskDir, Stat: stat(3)}
	link := Disk{Kind: DiskOther, Stat: stat(4)}
	tests := []struct {
		name       string
		ie         index.Entry
		indexed    bool
		disk       Disk
		wantScan   bool
		wantEdited bool
	}{
		{"synced file unchanged", synced, true, same, false, false},
		{"synced file changed", synced, true, changed, true, true},
		{"synced file gone: a deletion, not an edit", synced, true, none, true, false},
		{"synced file now a directory", synced, true, aDir, true, true},
		{"synced file now a symlink", synced, true, link, true, true},
		{"never synced, nothing there", index.Entry{}, false, none, false, false},
		{"never synced, a local file", index.Entry{}, false, changed, true, true},
		{"deleted here before, created again", tomb, true, same, true, true},
		{"deleted, still gone", tomb, true, none, false, false},
		{"synced directory still there", dir, true, aDir, false, false},
		{"synced directory now a file", dir, true, same, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeedsScan(tt.ie, tt.indexed, tt.disk); got != tt.wantScan {
				t.Errorf("NeedsScan = %v, want %v", got, tt.wantScan)
			}
			if got := Edited(tt.ie, tt.indexed, tt.disk); got != tt.wantEdited {
				t.Errorf("Edited = %v, want %v", got, tt.wantEdited)
			}
		})
	}
}
