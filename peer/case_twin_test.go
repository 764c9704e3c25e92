package peer

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/index"
)

// TestCaseTwinApplyingRetried: while a.txt is being applied, its case twin
// A.txt is not renamed into place (on a case-insensitive file system it
// would replace a.txt's new file before either is indexed): it is retried.
// Other names and a.txt itself go on.
func TestCaseTwinApplyingRetried(t *testing.T) {
	d := applyFixture(t)
	if !d.state.beginApply("dir/a.txt") {
		t.Fatal("beginApply")
	}
	defer d.state.endApply("dir/a.txt")
	tests := []struct {
		path string
		want outcome
	}{
		{"dir/A.txt", retry},
		{"DIR/a.TXT", retry},
		{"dir/b.txt", done},
		{"a.txt", done},
	}
	for _, tt := range tests {
		m := version(t, tt.path, []byte("x"), time.Now())
		if err := d.idx.Update(index.Batch{Wants: []index.Want{{Manifest: m, Seq: 1}}}); err != nil {
			t.Fatal(err)
		}
		if !d.state.beginApply(tt.path) {
			t.Fatal("beginApply")
		}
		got := d.apply.readyTarget(&m, filepath.Join(d.root, filepath.FromSlash(tt.path)))
		d.state.endApply(tt.path)
		if got != tt.want {
			t.Errorf("%s: readyTarget = %d, want %d", tt.path, got, tt.want)
		}
	}
}

// TestParkedRetriedOnlyAfterProgress: a round that parked a want asks for
// one more round only if it also applied or deleted something.
func TestParkedRetriedOnlyAfterProgress(t *testing.T) {
	tests := []struct {
		name     string
		parked   bool
		applied  int64
		deleted  int64
		wantMore int
	}{
		{"parked, nothing else", true, 0, 0, 0},
		{"parked, a deletion", true, 0, 1, 1},
		{"parked, an apply", true, 1, 0, 1},
		{"nothing parked", false, 1, 1, 0},
	}
	for _, tt := range tests {
		d := applyFixture(t)
		before := d.stats.Snapshot()
		r := &round{p: d.pull, parked: tt.parked}
		d.stats.FilesApplied.Add(tt.applied)
		d.stats.FilesDeleted.Add(tt.deleted)
		if got := r.retryParked(before); got != tt.wantMore {
			t.Errorf("%s: retryParked = %d, want %d", tt.name, got, tt.wantMore)
		}
	}
}
