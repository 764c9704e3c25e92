package peer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// TestCopyPending: an update or a deletion of the file synced at a path
// waits exactly while the version synced there is wanted, not built, under
// a conflict name of that path: shortened for a long name, a later
// candidate ("-2"), or behind many other copies under the same prefix. A
// copy built already, a copy of another version, the same version wanted
// as another path's copy, and a directory on either side do not wait.
func TestCopyPending(t *testing.T) {
	const short = "f.txt"
	long := strings.Repeat("f", 240) + ".txt"
	var dev identity.DeviceID
	dev[0] = 0x42
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	nameOf := func(p string) string { return tracker.ConflictName(p, mtime.UnixNano(), dev) }
	// many are copies of other versions of short, all before the copy of
	// A in walk order (their stamps are earlier).
	many := func() []string {
		var out []string
		for i := range 150 {
			out = append(out, tracker.ConflictName(short, time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC).UnixNano(), dev))
		}
		return out
	}()
	if orig, _, _, ok := tracker.ParseConflictName(nameOf(long)); !ok || orig == long {
		t.Fatalf("conflict name %q of the long name not shortened", nameOf(long))
	}
	tests := []struct {
		name    string
		path    string
		dirHere bool         // a directory is synced at path, not a file
		copies  []wantedCopy // wanted
		built   string       // a copy already here
		change  string       // "update", "deletion", "directory"
		want    bool
	}{
		{"no copy wanted", short, false, nil, "", "update", false},
		{"copy wanted, update", short, false, []wantedCopy{{nameOf(short), false}}, "", "update", true},
		{"copy wanted, deletion", short, false, []wantedCopy{{nameOf(short), false}}, "", "deletion", true},
		{"copy built", short, false, []wantedCopy{{nameOf(short), false}}, nameOf(short), "deletion", false},
		{"copy of another version", short, false, []wantedCopy{{nameOf(short), true}}, "", "update", false},
		{"long name: shortened copy, update", long, false, []wantedCopy{{nameOf(long), false}}, "", "update", true},
		{"long name: shortened copy, deletion", long, false, []wantedCopy{{nameOf(long), false}}, "", "deletion", true},
		{"later candidate", short, false, []wantedCopy{{"f.sync-conflict-20260102-030405-ABCDEFG-2.txt", false}}, "", "deletion", true},
		{"the version as another path's copy", short, false, []wantedCopy{{"f.sync-conflict-20260102-030405-ABCDEFG.md", false}}, "", "deletion", false},
		{"behind many other copies", short, false, append(others(many), wantedCopy{nameOf(short), false}), "", "update", true},
		{"a directory here", short, true, []wantedCopy{{nameOf(short), false}}, "", "deletion", false},
		{"a directory replaces the file", short, false, []wantedCopy{{nameOf(short), false}}, "", "directory", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := applyFixture(t)
			a := version(t, tt.path, []byte("the version synced here"), mtime)
			here := a
			if tt.dirHere {
				here = manifest.NewDir(tt.path, mtime.UnixNano())
			}
			put := []index.Entry{{Manifest: here}}
			if tt.built != "" {
				c := a
				c.Path = tt.built
				put = append(put, index.Entry{Manifest: c})
			}
			var ws []index.Want
			for i, cw := range tt.copies {
				c := a
				if cw.other {
					c = version(t, cw.path, []byte(fmt.Sprintf("another version %d", i)), mtime)
				}
				c.Path = cw.path
				ws = append(ws, index.Want{Manifest: c, Seq: uint64(i + 1)})
			}
			if err := d.idx.Update(index.Batch{Put: put, Wants: ws, Seq: uint64(len(ws) + 1)}); err != nil {
				t.Fatal(err)
			}
			var m manifest.Manifest
			switch tt.change {
			case "update":
				m = version(t, tt.path, []byte("the winner"), mtime.Add(time.Hour))
			case "deletion":
				m = manifest.NewTombstone(tt.path, manifest.KindFile, manifest.ID{7}, mtime.Add(time.Hour).UnixNano())
			case "directory":
				m = manifest.NewDir(tt.path, mtime.Add(time.Hour).UnixNano())
			}
			if got := d.apply.copyPending(&m); got != tt.want {
				t.Errorf("copyPending = %v, want %v", got, tt.want)
			}
		})
	}
}

// others lists paths as wanted copies of other versions.
func others(paths []string) []wantedCopy {
	out := make([]wantedCopy, len(paths))
	for i, p := range paths {
		out[i] = wantedCopy{p, true}
	}
	return out
}

// wantedCopy is a conflict copy wanted in TestCopyPending.
type wantedCopy struct {
	path  string
	other bool // a copy of another version, not of the one synced here
}
