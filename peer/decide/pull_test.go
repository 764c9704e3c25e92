package decide

import (
	"reflect"
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
)

// TestWants: every want lands in one class, in the order a pull applies
// them: directories (parents first), new paths (also a file replacing a
// directory, or a re-created deleted file), updates, and deletions deepest
// first; wants the index already has, and invalid paths, are finished.
func TestWants(t *testing.T) {
	v1 := file(t, "f.txt", "one")
	v2 := file(t, "f.txt", "two")
	dirD := manifest.NewDir("d", 1)
	tomb := manifest.NewTombstone("gone.txt", manifest.KindFile, v1.ID, 2)
	idx := view{
		{Manifest: v1, Stat: stat(1)},
		{Manifest: dirD},
		{Manifest: tomb},
		{Manifest: file(t, "same.txt", "same"), Stat: stat(2)},
	}
	tests := []struct {
		name  string
		want  manifest.Manifest
		class string // finished, invalid, dirs, adds, updates, dels
	}{
		{"new version of a synced file", v2, "updates"},
		{"version the index has", file(t, "same.txt", "same"), "finished"},
		{"new path", file(t, "new.txt", "n"), "adds"},
		{"re-created deleted path", file(t, "gone.txt", "back"), "adds"},
		{"file replacing a synced directory", file(t, "d", "now a file"), "adds"},
		{"directory replacing a synced file", manifest.NewDir("f.txt", 3), "dirs"},
		{"new directory", manifest.NewDir("e", 3), "dirs"},
		{"tombstone", manifest.NewTombstone("f.txt", manifest.KindFile, v1.ID, 4), "dels"},
		{"invalid path from the tracker", file(t, "../escape", "x"), "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Wants([]index.Want{wantOf(tt.want)}, idx.lookup)
			got := map[string]int{"dirs": len(p.Dirs), "adds": len(p.Adds), "updates": len(p.Updates),
				"dels": len(p.Dels), "invalid": len(p.Invalid), "finished": len(p.Finished)}
			want := map[string]int{"dirs": 0, "adds": 0, "updates": 0, "dels": 0, "invalid": 0, "finished": 0}
			want[tt.class] = 1
			if tt.class == "invalid" {
				want["finished"] = 1
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("classes %v, want %v", got, want)
			}
		})
	}
}

// TestWantsOrder: directories by path (parents before children),
// deletions deepest first, then by path.
func TestWantsOrder(t *testing.T) {
	var ws []index.Want
	for _, p := range []string{"b", "a/b", "a"} {
		ws = append(ws, wantOf(manifest.NewDir(p, 1)))
	}
	for _, p := range []string{"x", "a/b/c.txt", "a/b", "a", "z/y"} {
		ws = append(ws, wantOf(manifest.NewTombstone(p, manifest.KindFile, manifest.ID{1}, 1)))
	}
	p := Wants(ws, view{}.lookup)
	if got, want := paths(p.Dirs), []string{"a", "a/b", "b"}; !slices.Equal(got, want) {
		t.Errorf("dirs %v, want %v", got, want)
	}
	if got, want := paths(p.Dels), []string{"a/b/c.txt", "a/b", "z/y", "a", "x"}; !slices.Equal(got, want) {
		t.Errorf("dels %v, want %v", got, want)
	}
}

// TestMoveFrom: which new paths are renames of a file a tombstone of the
// same pull deletes. A rename with edits is not a move (the content
// differs: fetched, then the old path deleted); a file edited here since it
// was synced is not moved either (the index no longer holds the deleted
// version there), nor is a directory.
func TestMoveFrom(t *testing.T) {
	v1 := file(t, "old.txt", "content")
	edited := file(t, "new.txt", "content, edited while renamed")
	twin := file(t, "other.txt", "content")
	moved := file(t, "new.txt", "content")
	del := func(p string, base manifest.ID) index.Want {
		return wantOf(manifest.NewTombstone(p, manifest.KindFile, base, 2))
	}
	synced := view{{Manifest: v1, Stat: stat(1)}, {Manifest: twin, Stat: stat(2)}}
	tests := []struct {
		name  string
		index view
		adds  []index.Want
		dels  []index.Want
		want  []int
	}{
		{"pure rename", synced, []index.Want{wantOf(moved)}, []index.Want{del("old.txt", v1.ID)}, []int{0}},
		{"rename with edits", synced, []index.Want{wantOf(edited)}, []index.Want{del("old.txt", v1.ID)}, []int{-1}},
		{"no tombstone in the pull", synced, []index.Want{wantOf(moved)}, nil, []int{-1}},
		{"edited here since synced", view{{Manifest: file(t, "old.txt", "mine"), Stat: stat(1)}},
			[]index.Want{wantOf(moved)}, []index.Want{del("old.txt", v1.ID)}, []int{-1}},
		{"tombstone of a directory", synced, []index.Want{wantOf(moved)},
			[]index.Want{wantOf(manifest.NewTombstone("old.txt", manifest.KindDir, v1.ID, 2))}, []int{-1}},
		{"two copies moved: the last tombstone serves both adds", synced,
			[]index.Want{wantOf(moved), wantOf(file(t, "third.txt", "content"))},
			[]index.Want{del("old.txt", v1.ID), del("other.txt", v1.ID)}, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MoveFrom(tt.adds, tt.dels, tt.index.lookup); !slices.Equal(got, tt.want) {
				t.Errorf("MoveFrom = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestStillCurrent: only versions that are still the newest known are
// announced as owned.
func TestStillCurrent(t *testing.T) {
	a := file(t, "a.txt", "a")
	b := file(t, "b.txt", "b")
	c := file(t, "c.txt", "c")
	idx := view{{Manifest: a}, {Manifest: b}, {Manifest: file(t, "c.txt", "edited here")}}
	wants := map[string]manifest.ID{"b.txt": file(t, "b.txt", "newer").ID, "a.txt": a.ID}
	wantID := func(p string) (manifest.ID, bool) { id, ok := wants[p]; return id, ok }
	got := StillCurrent([]manifest.Manifest{a, b, c, file(t, "d.txt", "not indexed")}, wantID, idx.lookup)
	if len(got) != 1 || got[0].Path != "a.txt" {
		t.Errorf("StillCurrent = %v, want [a.txt] (b: newer wanted, c: edited here, d: not indexed)", got)
	}
}

// TestDelete: what a remote deletion does to what is there (delete vs
// edit: an edit is kept).
func TestDelete(t *testing.T) {
	v1 := file(t, "a.txt", "one")
	synced := index.Entry{Manifest: v1, Stat: stat(1)}
	tests := []struct {
		name    string
		ie      index.Entry
		indexed bool
		disk    Disk
		want    DeleteAction
	}{
		{"synced and unchanged", synced, true, Disk{Kind: DiskFile, Stat: stat(1)}, DeleteFile},
		{"edited here", synced, true, Disk{Kind: DiskFile, Stat: stat(2)}, DeleteEdited},
		{"already gone", synced, true, Disk{}, DeleteGone},
		{"never synced", index.Entry{}, false, Disk{Kind: DiskFile, Stat: stat(1)}, DeleteUnsynced},
		{"deleted here and created again", index.Entry{Manifest: manifest.NewTombstone("a.txt", manifest.KindFile, v1.ID, 1)},
			true, Disk{Kind: DiskFile, Stat: stat(1)}, DeleteUnsynced},
		{"a directory", index.Entry{Manifest: manifest.NewDir("a.txt", 1)}, true, Disk{Kind: DiskDir}, DeleteDir},
		{"synced directory now a file", index.Entry{Manifest: manifest.NewDir("a.txt", 1)}, true,
			Disk{Kind: DiskFile, Stat: stat(1)}, DeleteEdited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Delete(tt.ie, tt.indexed, tt.disk); got != tt.want {
				t.Errorf("Delete = %d, want %d", got, tt.want)
			}
		})
	}
}
