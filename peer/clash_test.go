package peer

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// TestFileDirectoryClashKeepsBoth: a file on one device and a directory of
// the same name on another. The tracker keeps the directory under the name
// and records the file under its conflict name, owned by the device that
// made it, which must build that copy from its own file before the
// directory replaces it: whichever report the tracker saw first, both
// peers end with the directory and its content under the name and the
// file's bytes under the conflict name.
func TestFileDirectoryClashKeepsBoth(t *testing.T) {
	tests := []struct {
		name      string
		fileFirst bool // the file's report is accepted, then the directory wins the clash
	}{
		{"file accepted first, then the directory wins", true},
		{"directory first, then the file's report conflicts", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNet(t)
			f := n.start(t.TempDir())  // makes the file "x"
			dp := n.start(t.TempDir()) // makes the directory "x"

			fileData := bytes.Repeat([]byte("the only copy of this file "), 3000) // several pieces
			inside := []byte("inside the directory")
			writeFile := func() {
				t.Helper()
				if err := os.WriteFile(filepath.Join(f.root, "x"), fileData, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			makeDir := func() {
				t.Helper()
				if err := os.MkdirAll(filepath.Join(dp.root, "x"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dp.root, "x", "inside"), inside, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.fileFirst {
				dp.stop()
				writeFile()
				waitFor(t, "the file reported", func() bool { return f.d.Stats().LocalChanges >= 1 })
				makeDir()
				dp = n.restart(t, dp)
			} else {
				f.stop()
				makeDir()
				waitFor(t, "the directory reported", func() bool { return dp.d.Stats().LocalChanges >= 2 })
				writeFile()
				f = n.restart(t, f)
			}
			for _, root := range []string{f.root, dp.root} {
				waitFor(t, "directory content in "+root, fileIs(filepath.Join(root, "x", "inside"), inside))
				waitFor(t, "the file as its conflict copy in "+root, func() bool {
					return conflictCopy(root, "x.sync-conflict-", fileData) != ""
				})
			}
		})
	}
}

// conflictCopy returns the name of a file in root whose name starts with
// prefix and which holds data ("" if none).
func conflictCopy(root, prefix string, data []byte) string {
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) && fileIs(filepath.Join(root, e.Name()), data)() {
			return e.Name()
		}
	}
	return ""
}

// TestDirectoryReplacesFileKeepsConflictCopy: before a directory replaces
// a synced file whose version this pull also wants under a conflict name,
// the file is put there from local data: renamed, or its old name dropped
// where keepConflictCopy already linked or copied it. Another file at the
// conflict name is never taken for the copy: then nothing is removed.
func TestDirectoryReplacesFileKeepsConflictCopy(t *testing.T) {
	const name, copyName = "x", "x.sync-conflict-20260102-030405-ABCDEFG"
	data := bytes.Repeat([]byte("only here "), 5000)
	tests := []struct {
		name    string
		setup   func(t *testing.T, d *folder) // the conflict name before the pull
		want    outcome
		keptDir bool
	}{
		{name: "nothing there yet: renamed", want: done, keptDir: true},
		{name: "hard link there (record kept the copy)", want: done, keptDir: true, setup: func(t *testing.T, d *folder) {
			ie, _ := d.idx.Get(name)
			st, err := d.report.keepConflictCopy(&ie.Manifest, copyName, ie.Stat)
			if err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Lstat(filepath.Join(d.root, copyName)); err != nil || !os.SameFile(fi, mustLstat(t, filepath.Join(d.root, name))) {
				t.Fatalf("keepConflictCopy made no hard link: %v", err)
			}
			ie.Stat = st // as record stages it
			d.idx.Stage(ie)
		}},
		{name: "copy there (no hard links)", want: done, keptDir: true, setup: func(t *testing.T, d *folder) {
			writeLocal(t, d.root, copyName, data)
		}},
		{name: "another file there", want: retry, setup: func(t *testing.T, d *folder) {
			writeLocal(t, d.root, copyName, bytes.Repeat([]byte("someone else"), 10))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := applyFixture(t)
			root := d.root
			syncedFile(t, d, name, data)
			ie, _ := d.idx.Get(name)
			cw := index.Want{Manifest: ie.Manifest, Seq: 7}
			cw.Manifest.Path, cw.Manifest.Base = copyName, manifest.ID{}
			dw := index.Want{Manifest: manifest.NewDir(name, time.Now().UnixNano()), Seq: 8}
			if err := d.idx.Update(index.Batch{Wants: []index.Want{cw, dw}}); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, d)
			}
			before, _ := os.ReadFile(filepath.Join(root, copyName))

			r := &round{p: d.pull}
			got := d.apply.applyDir(r, dw, byFileID([]index.Want{cw}))
			if got != tt.want {
				t.Fatalf("applyDir = %d, want %d", got, tt.want)
			}
			fi, err := os.Lstat(filepath.Join(root, name))
			if tt.keptDir {
				if err != nil || !fi.IsDir() {
					t.Fatalf("no directory at the name: %v", err)
				}
				if !fileIs(filepath.Join(root, copyName), data)() {
					t.Fatal("the file's bytes are not under the conflict name")
				}
				e, ok := d.idx.Get(copyName)
				cfi, _ := os.Lstat(filepath.Join(root, copyName))
				if !ok || e.Manifest.ID != cw.Manifest.ID || e.Stat != scan.StatOf(cfi) {
					t.Errorf("conflict copy not recorded: %v %+v", ok, e.Stat)
				}
				if !slices.ContainsFunc(r.owned, func(m manifest.Manifest) bool { return m.Path == copyName }) {
					t.Error("conflict copy not announced as owned")
				}
				return
			}
			if !fileIs(filepath.Join(root, name), data)() {
				t.Fatal("the file was removed though its copy could not be kept")
			}
			if !fileIs(filepath.Join(root, copyName), before)() {
				t.Fatal("the other file at the conflict name was changed")
			}
		})
	}
}

func mustLstat(t *testing.T, p string) os.FileInfo {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
