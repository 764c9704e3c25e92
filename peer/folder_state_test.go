package peer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/marker"
	"github.com/dartsync/dartsync/peer/scan"
)

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// TestFolderProblem is the marker rule, case by case.
func TestFolderProblem(t *testing.T) {
	const other = "OTHERDEVICE"
	tests := []struct {
		name   string
		when   checkTime
		setup  func(t *testing.T, d *folder) // root, state and index are empty
		reason string                        // "" = active; else a part of the reason
		marked bool                          // the folder is marked as d's afterwards
		exists bool                          // the folder exists afterwards
	}{
		{"first start, folder missing", atStart, func(t *testing.T, d *folder) {
			mustDo(t, os.Remove(d.root))
		}, "", true, true},
		{"marked", running, func(t *testing.T, d *folder) {
			mustDo(t, d.guard.writeMarker())
		}, "", true, true},
		{"marked by this device, state moved", atStart, func(t *testing.T, d *folder) {
			mustDo(t, marker.Write(d.root, marker.Marker{Device: d.guard.self.String(), StateDir: "/old/state"}))
		}, "", true, true},
		{"marked by another device", atStart, func(t *testing.T, d *folder) {
			mustDo(t, marker.Write(d.root, marker.Marker{Device: other, StateDir: "/other/state"}))
		}, "another device", false, true},
		{"unreadable marker", atStart, func(t *testing.T, d *folder) {
			mustDo(t, os.Mkdir(filepath.Join(d.root, manifest.StateDir), 0o700))
			mustDo(t, os.WriteFile(marker.Path(d.root), []byte("{"), 0o644))
		}, "cannot be read", false, true},
		{"files indexed, folder missing", atStart, func(t *testing.T, d *folder) {
			indexFile(t, d, "x", "data")
			mustDo(t, os.RemoveAll(d.root))
		}, "does not exist", false, false},
		{"files indexed, empty mount point", atStart, func(t *testing.T, d *folder) {
			indexFile(t, d, "x", "data")
			mustDo(t, os.Remove(filepath.Join(d.root, "x")))
		}, "has no marker", false, true},
		{"files indexed, unmarked, one unchanged, at start", atStart, func(t *testing.T, d *folder) {
			indexFile(t, d, "x", "data")
		}, "", true, true},
		{"files indexed, unmarked, one unchanged, running", running, func(t *testing.T, d *folder) {
			indexFile(t, d, "x", "data")
		}, "has no marker", false, true},
		{"files indexed, unmarked, a copy (other inode), at start", atStart, func(t *testing.T, d *folder) {
			indexFile(t, d, "x", "data")
			p := filepath.Join(d.root, "x")
			fi, err := os.Stat(p)
			mustDo(t, err)
			mustDo(t, os.Rename(p, p+".old"))
			mustDo(t, os.WriteFile(p, []byte("data"), 0o644))
			mustDo(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))
		}, "has no marker", false, true},
		{"files indexed, unmarked, state inside the folder, at start", atStart, func(t *testing.T, d *folder) {
			inside(t, d)
			indexFile(t, d, "x", "data")
			mustDo(t, os.WriteFile(filepath.Join(d.root, "x"), []byte("changed"), 0o644))
		}, "", true, true},
		{"files indexed, unmarked, state inside the folder, running", running, func(t *testing.T, d *folder) {
			inside(t, d)
			indexFile(t, d, "x", "data")
		}, "has no marker", false, true},
		{"only tombstones indexed, folder missing", running, func(t *testing.T, d *folder) {
			d.idx.Stage(index.Entry{Manifest: manifest.NewTombstone("gone", manifest.KindFile, manifest.ID{1}, 1)})
			mustDo(t, os.Remove(d.root))
		}, "", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := folderDaemon(t)
			tt.setup(t, d)
			otherBefore, _ := marker.Read(d.root)
			got := d.guard.problem(tt.when).String()
			if (got == "") != (tt.reason == "") || !strings.Contains(got, tt.reason) {
				t.Fatalf("folderProblem = %q, want %q", got, tt.reason)
			}
			m, err := marker.Read(d.root)
			marked := err == nil && m.Device == d.guard.self.String() && m.StateDir == d.guard.stateDir
			if marked != tt.marked {
				t.Fatalf("marked as ours: %v (%+v, %v), want %v", marked, m, err, tt.marked)
			}
			if !tt.marked && err == nil && m != otherBefore {
				t.Fatalf("another device's marker rewritten: %+v", m)
			}
			if fileExists(d.root) != tt.exists {
				t.Fatalf("folder exists: %v, want %v", !tt.exists, tt.exists)
			}
		})
	}
}

// folderDaemon is a folder with an empty folder and index, not running
// (its guard off).
func folderDaemon(t *testing.T) *folder {
	t.Helper()
	root := filepath.Join(t.TempDir(), "folder")
	mustDo(t, os.Mkdir(root, 0o755))
	state := filepath.Join(t.TempDir(), "state")
	idx, err := index.Open(state)
	mustDo(t, err)
	t.Cleanup(func() { idx.Close() })
	id, err := identity.New()
	mustDo(t, err)
	return newFolder(Config{Root: root, StateDir: state, Log: testLog(), KeepVersions: -1}, id.ID, idx, nil)
}

// inside moves d's index into its folder (the default state directory).
func inside(t *testing.T, d *folder) {
	t.Helper()
	mustDo(t, d.idx.Close())
	d.guard.stateDir = filepath.Join(d.root, manifest.StateDir)
	idx, err := index.Open(d.guard.stateDir)
	mustDo(t, err)
	t.Cleanup(func() { idx.Close() })
	d.idx, d.guard.idx = idx, idx
}

// indexFile writes rel in d's folder and indexes it as synced.
func indexFile(t *testing.T, d *folder, rel, data string) {
	t.Helper()
	p := filepath.Join(d.root, rel)
	mustDo(t, os.WriteFile(p, []byte(data), 0o644))
	fi, err := os.Lstat(p)
	mustDo(t, err)
	m, err := manifest.BuildBytes(context.Background(), []byte(data), 16<<10)
	mustDo(t, err)
	m.Path = rel
	d.idx.Stage(index.Entry{Manifest: m, Stat: scan.StatOf(fi)})
}

// TestApplyIntoUnmountedFolder: a pull that began before the disk was
// unmounted writes nothing into the empty mount point, nor takes its
// missing files for applied deletions: the last check before each rename,
// mkdir or deletion finds the marker gone and pauses the folder.
func TestApplyIntoUnmountedFolder(t *testing.T) {
	appliers := []struct {
		name  string
		path  string
		apply func(d *folder, f readyFile) outcome
	}{
		{"single file", "top.bin", func(d *folder, f readyFile) outcome {
			return d.apply.apply(&f.w.Manifest, f.part, f.abs)
		}},
		{"batch", "top.bin", func(d *folder, f readyFile) outcome {
			r := &round{p: d.pull}
			d.apply.applyBatch(r, []readyFile{f})
			if len(r.finished) > 0 || r.pending != 1 {
				return done
			}
			return retry
		}},
		{"directory", "new dir", func(d *folder, f readyFile) outcome {
			f.part.Close()
			return d.apply.applyDir(&round{p: d.pull}, index.Want{Manifest: manifest.NewDir("new dir", 1)}, nil)
		}},
		{"deletion", "synced.txt", func(d *folder, f readyFile) outcome {
			f.part.Close()
			e, _ := d.idx.Get("synced.txt")
			return d.apply.applyDelete(index.Want{Manifest: manifest.NewTombstone("synced.txt", manifest.KindFile, e.Manifest.ID, 2)})
		}},
	}
	for _, tt := range appliers {
		t.Run(tt.name, func(t *testing.T) {
			d := applyFixture(t)
			id, err := identity.New()
			mustDo(t, err)
			d.guard.self, d.guard.stateDir = id.ID, filepath.Join(t.TempDir(), "state")
			d.guard.guarded = true
			mustDo(t, d.guard.writeMarker())
			syncedFile(t, d, "synced.txt", []byte("synced")) // the index holds files
			data := []byte("remote version")
			m := version(t, "top.bin", data, time.Now())
			mustDo(t, d.idx.Update(index.Batch{Wants: []index.Want{{Manifest: m, Seq: 1}}}))
			abs, _, err := target(d.root, m.Path, createParents)
			mustDo(t, err)
			part, err := d.store.Partial(&m)
			mustDo(t, err)
			mustDo(t, part.WritePiece(0, data))
			if d.apply.seal(&m, part, false) != done {
				t.Fatal("seal failed")
			}

			_, err = unmount(d.root)
			mustDo(t, err)
			if o := tt.apply(d, readyFile{w: index.Want{Manifest: m}, part: part, abs: abs}); o != retry {
				t.Fatalf("outcome %d, want retry", o)
			}
			if ents, _ := os.ReadDir(d.root); len(ents) > 0 {
				t.Fatalf("%s written into the empty mount point", ents[0].Name())
			}
			if e, ok := d.idx.Get(tt.path); ok && (tt.path != "synced.txt" || e.Manifest.Deleted) {
				t.Fatalf("index records a version not applied: %+v", e.Manifest)
			}
			if paused, _ := d.guard.get(); !paused {
				t.Fatal("folder not paused")
			}
		})
	}
}

// TestRootEventPauses: with no poll and no scan due for an hour, the
// watcher's report that the folder itself was renamed away pauses it.
func TestRootEventPauses(t *testing.T) {
	n := newTestNet(t)
	rec, log := newLogRecorder()
	root := filepath.Join(t.TempDir(), "a")
	writeTestFile(t, root, "f.txt", "data")
	a := n.startGuarded(root, filepath.Join(t.TempDir(), "state"), rec, log, func(c *Config) {
		c.FolderPoll, c.Debounce = time.Hour, time.Hour
	})
	waitFor(t, "first scan", func() bool { return a.d.Stats().LocalChanges == 1 })
	mustDo(t, os.Rename(root, root+".away"))
	waitFor(t, "paused", func() bool { return a.d.Stats().Paused })
}
