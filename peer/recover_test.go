package peer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// TestRecoverAppliedAfterCrash: the disk state a crash between a rename
// (or mkdir) and its index write leaves is recorded as the stored want
// applied, with the stat found, the want forgotten and the version's
// ownership queued for announcing; anything else at a wanted path (a
// local edit, a file of other bytes, nothing) is left for the scan.
func TestRecoverAppliedAfterCrash(t *testing.T) {
	d := applyFixture(t)
	root := d.root
	mtime := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	now := time.Now().UnixNano()
	// put writes data at rel with m's mode and mtime, as apply would.
	put := func(rel string, data []byte, m *manifest.Manifest) {
		t.Helper()
		writeLocal(t, root, rel, data)
		if err := setMeta(filepath.Join(root, filepath.FromSlash(rel)), "", m, 0o022); err != nil {
			t.Fatal(err)
		}
	}
	var wants []index.Want
	want := func(m manifest.Manifest) {
		wants = append(wants, index.Want{Manifest: m, Seq: uint64(len(wants) + 1)})
	}

	// An update renamed into place: the index still has the old version.
	syncedFile(t, d, "updated.txt", []byte("old version"))
	upd := version(t, "updated.txt", []byte("new version, renamed into place"), mtime)
	want(upd)
	put("updated.txt", []byte("new version, renamed into place"), &upd)
	// A new file of an applyBatch.
	added := version(t, "dir/added.txt", []byte("a new file"), mtime)
	want(added)
	put("dir/added.txt", []byte("a new file"), &added)
	// A move: the file left its old path for the new one.
	syncedFile(t, d, "moved-from.txt", []byte("moved content"))
	from, _ := d.idx.Get("moved-from.txt")
	to := version(t, "moved-to.txt", []byte("moved content"), mtime)
	want(to)
	want(manifest.NewTombstone("moved-from.txt", manifest.KindFile, from.Manifest.ID, now))
	if err := os.Rename(filepath.Join(root, "moved-from.txt"), filepath.Join(root, "moved-to.txt")); err != nil {
		t.Fatal(err)
	}
	// A directory made.
	want(manifest.NewDir("made dir", now))
	if err := os.Mkdir(filepath.Join(root, "made dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Not applied: a local edit of a synced file, a file not yet written,
	// a local file of the wanted size but other bytes.
	syncedFile(t, d, "edited.txt", []byte("synced"))
	want(version(t, "edited.txt", []byte("remote"), mtime))
	writeLocal(t, root, "edited.txt", []byte("edited here"))
	want(version(t, "not yet.txt", []byte("not fetched"), mtime))
	other := version(t, "same size.txt", []byte("remote bytes"), mtime)
	want(other)
	put("same size.txt", []byte("local bytes!"), &other)

	if err := d.idx.Update(index.Batch{Wants: wants}); err != nil {
		t.Fatal(err)
	}
	n, err := d.pull.recoverApplied(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("recorded %d paths, want 4", n)
	}
	for _, m := range []manifest.Manifest{upd, added, to} {
		ie, ok := d.idx.Get(m.Path)
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(m.Path)))
		if err != nil || !ok || ie.Manifest.ID != m.ID || ie.Stat != scan.StatOf(fi) {
			t.Errorf("%s: index %v %+v does not record the file on disk (%v)", m.Path, ok, ie.Stat, err)
		}
		if _, ok := d.idx.WantID(m.Path); ok {
			t.Errorf("%s: want not forgotten", m.Path)
		}
		if !slices.ContainsFunc(d.state.unannounced, func(u manifest.Manifest) bool { return u.Path == m.Path && u.ID == m.ID }) {
			t.Errorf("%s: ownership not queued", m.Path)
		}
	}
	// Absence proves nothing (an unmounted folder): the move's old path is
	// left for the scan, which reports the same deletion.
	if ie, _ := d.idx.Get("moved-from.txt"); ie.Manifest.Deleted {
		t.Error("a path absent at the start recorded as deleted")
	}
	if ie, ok := d.idx.Get("made dir"); !ok || ie.Manifest.Kind != manifest.KindDir || ie.Manifest.Deleted {
		t.Errorf("directory made not recorded: %+v", ie.Manifest)
	}
	for _, p := range []string{"edited.txt", "not yet.txt", "same size.txt", "moved-from.txt"} {
		if _, ok := d.idx.WantID(p); !ok {
			t.Errorf("%s: want forgotten though not applied", p)
		}
	}
	if ie, _ := d.idx.Get("edited.txt"); ie.Manifest.ID == version(t, "edited.txt", []byte("remote"), mtime).ID {
		t.Error("a local edit recorded as the remote version")
	}
	if _, ok := d.idx.Get("same size.txt"); ok {
		t.Error("a file of other bytes recorded as the wanted version")
	}
	// The first scan finds nothing to report for what was recorded.
	for _, p := range []string{"updated.txt", "dir/added.txt", "moved-to.txt"} {
		if d.report.needsScan([]string{p}) {
			t.Errorf("%s would be rescanned as a local change", p)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "moved-from.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}
