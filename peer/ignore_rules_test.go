package peer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/ignore"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// TestIgnoreRulesReload: each change of the ignore file takes effect at the
// next reload; a file too large or not regular is warned about once and
// keeps the rules there were; a missing folder keeps them too; a removed
// ignore file leaves the defaults.
func TestIgnoreRulesReload(t *testing.T) {
	rec, log := newLogRecorder()
	root := t.TempDir()
	r := newIgnoreRules(Config{Root: root, Log: log})
	file := filepath.Join(root, ignore.FileName)
	steps := []struct {
		name        string
		do          func(t *testing.T)
		wantChanged bool
		wantLog     bool // x.log ignored
		wantTmp     bool // x.tmp ignored
		wantWarns   int  // warnings so far
	}{
		{"no file: defaults", func(*testing.T) {}, false, false, true, 0},
		{"patterns", func(t *testing.T) { writeTestFile(t, root, ignore.FileName, "*.log\n") }, true, true, true, 0},
		{"same patterns again", func(t *testing.T) { writeTestFile(t, root, ignore.FileName, "*.log\n") }, false, true, true, 0},
		{"a default re-included", func(t *testing.T) { writeTestFile(t, root, ignore.FileName, "*.log\r\n!x.tmp\r\n") }, true, true, false, 0},
		{"too large: rules stay", func(t *testing.T) {
			writeTestFile(t, root, ignore.FileName, strings.Repeat("#", ignore.MaxFileSize+1))
		}, false, true, false, 1},
		{"still too large: warned once", func(*testing.T) {}, false, true, false, 1},
		{"a directory: rules stay", func(t *testing.T) {
			must(t, os.Remove(file))
			must(t, os.Mkdir(file, 0o755))
		}, false, true, false, 2},
		{"removed: defaults only", func(t *testing.T) { must(t, os.Remove(file)) }, true, false, true, 2},
		{"a problem line is warned about", func(t *testing.T) { writeTestFile(t, root, ignore.FileName, "*.log\n[x\n") }, true, true, true, 3},
		{"folder gone: rules stay", func(t *testing.T) { must(t, os.RemoveAll(root)) }, false, true, true, 4},
	}
	for _, s := range steps {
		s.do(t)
		if got := r.reload(); got != s.wantChanged {
			t.Errorf("%s: reload changed = %v, want %v", s.name, got, s.wantChanged)
		}
		if got := r.ignored("x.log", false); got != s.wantLog {
			t.Errorf("%s: x.log ignored = %v, want %v", s.name, got, s.wantLog)
		}
		if got := r.ignored("d/x.tmp", false); got != s.wantTmp {
			t.Errorf("%s: d/x.tmp ignored = %v, want %v", s.name, got, s.wantTmp)
		}
		if got := rec.count("ignore file"); got != s.wantWarns {
			t.Errorf("%s: %d warnings, want %d", s.name, got, s.wantWarns)
		}
	}
	off := newIgnoreRules(Config{Root: t.TempDir(), Log: log, NoDefaultIgnores: true})
	if off.ignored("x.tmp", false) {
		t.Error("NoDefaultIgnores: x.tmp ignored")
	}
	var none *ignoreRules
	if none.ignored("x.tmp", false) || none.reload() {
		t.Error("nil rules ignore something")
	}
}

// TestPullSkipsIgnoredWants: a pull neither deletes nor writes ignored
// paths; their wants stay stored and apply once the path is un-ignored. A
// deleted directory that holds ignored files (synced or not) is kept, and
// its want is done.
func TestPullSkipsIgnoredWants(t *testing.T) {
	d := applyFixture(t)
	ctx := context.Background()
	now := time.Now().UnixNano()
	for _, p := range []string{"d", "e"} {
		must(t, os.MkdirAll(filepath.Join(d.root, p), 0o755))
		must(t, d.idx.Update(index.Batch{Put: []index.Entry{{Manifest: manifest.NewDir(p, now)}}}))
	}
	for _, p := range []string{"x.log", "keep.txt", "d/a.txt", "e/old.log"} {
		syncedFile(t, d, p, []byte("synced "+p))
	}
	writeLocal(t, d.root, "d/draft.tmp", []byte("local draft")) // a default pattern
	writeLocal(t, d.root, ignore.FileName, []byte("*.log\n"))
	if !d.ignore.reload() {
		t.Fatal("ignore file not loaded")
	}
	tomb := func(p string, seq uint64) index.Want {
		ie, _ := d.idx.Get(p)
		return index.Want{Manifest: manifest.NewTombstone(p, ie.Manifest.Kind, ie.Manifest.ID, now), Seq: seq}
	}
	newLog := index.Want{Manifest: version(t, "new.log", []byte("remote log"), time.Now()), Seq: 6}
	must(t, d.idx.Update(index.Batch{Wants: []index.Want{
		tomb("x.log", 1), tomb("keep.txt", 2), tomb("d/a.txt", 3), tomb("d", 4), tomb("e/old.log", 5), newLog, tomb("e", 7),
	}}))
	pending, err := d.pull.pull(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("%d wants pending, want 0 (ignored ones are not pulled)", pending)
	}
	for p, want := range map[string]bool{
		"x.log": true, "keep.txt": false, "d/a.txt": false, "d": true, "d/draft.tmp": true, "e": true, "e/old.log": true, "new.log": false,
	} {
		_, err := os.Lstat(filepath.Join(d.root, filepath.FromSlash(p)))
		if got := err == nil; got != want || (!got && !errors.Is(err, os.ErrNotExist)) {
			t.Errorf("%s present = %v (%v), want %v", p, got, err, want)
		}
	}
	for p, want := range map[string]bool{"x.log": true, "e/old.log": true, "new.log": true, "keep.txt": false, "d": false, "e": false} {
		if _, ok := d.idx.WantID(p); ok != want {
			t.Errorf("want of %s stored = %v, want %v", p, ok, want)
		}
	}

	// Un-ignored: the stored deletion applies.
	writeLocal(t, d.root, ignore.FileName, []byte("new.log\n"))
	if !d.ignore.reload() {
		t.Fatal("ignore file not reloaded")
	}
	if _, err := d.pull.pull(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(d.root, "x.log")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("x.log not deleted once un-ignored: %v", err)
	}
}

// TestDefaultIgnoresSpareOwnNames: the names the peer itself gives files in
// the folder (conflict copies, a case-only rename's temporary name) are
// not among the default ignores, so they sync like the files they stand
// for.
func TestDefaultIgnoresSpareOwnNames(t *testing.T) {
	r := newIgnoreRules(Config{Root: t.TempDir(), Log: testLog()})
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC).UnixNano()
	for _, p := range []string{
		tracker.ConflictName("notes.txt", now, identity.DeviceID{1}),
		tracker.ConflictName("a/Report.docx", now, identity.DeviceID{2}),
		tracker.ConflictName("Makefile", now, identity.DeviceID{3}),
		"a/Name.txt.dartsync-rename",
		ignore.FileName,
	} {
		if r.ignored(p, false) {
			t.Errorf("%s is ignored by default", p)
		}
	}
}

// TestStatusCountsNoIgnoredPaths: the status census leaves ignored paths
// out: their wants are not waiting work, their files not part of the sync.
func TestStatusCountsNoIgnoredPaths(t *testing.T) {
	d := applyFixture(t)
	syncedFile(t, d, "a.txt", []byte("synced"))
	syncedFile(t, d, "old.log", []byte("synced, then ignored"))
	writeLocal(t, d.root, ignore.FileName, []byte("*.log\n"))
	if !d.ignore.reload() {
		t.Fatal("ignore file not loaded")
	}
	must(t, d.idx.Update(index.Batch{Wants: []index.Want{
		{Manifest: version(t, "new.log", []byte("remote log"), time.Now()), Seq: 1},
		{Manifest: version(t, "b.txt", []byte("remote file"), time.Now()), Seq: 2},
	}}))
	c := count(d.idx, d.ignore, "")
	if c.wants != 1 || c.files != 2 || c.filesInSync != 1 {
		t.Errorf("census: %d wants, %d files, %d in sync; want 1, 2 (a.txt, b.txt), 1", c.wants, c.files, c.filesInSync)
	}
	if all := count(d.idx, nil, ""); all.wants != 2 || all.files != 4 {
		t.Errorf("census without rules: %d wants, %d files; want 2, 4", all.wants, all.files)
	}
}
