package peer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/scan"
)

// applyFixture is a folder with an index and chunk store but no network
// (and its guard off, nothing kept in versions): enough to run its parts.
func applyFixture(t *testing.T) *folder {
	t.Helper()
	root := t.TempDir()
	state := filepath.Join(t.TempDir(), "state")
	idx, err := index.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	store, err := chunkstore.Open(root, state, testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return testFolder(Config{Root: root, Log: testLog()}, idx, store)
}

// testFolder wires the parts of a folder that is not running: its guard
// is off and nothing is kept in versions unless cfg says so.
func testFolder(cfg Config, idx *index.Index, store *chunkstore.Store) *folder {
	if cfg.KeepVersions == 0 {
		cfg.KeepVersions = -1
	}
	return newFolder(cfg, identity.DeviceID{}, idx, store)
}

// version builds the manifest of data at path with a fixed mtime.
func version(t *testing.T, path string, data []byte, mtime time.Time) manifest.Manifest {
	t.Helper()
	m, err := manifest.BuildBytes(context.Background(), data, 16<<10)
	if err != nil {
		t.Fatal(err)
	}
	m.Path, m.ModTime = path, mtime.UnixNano()
	return m
}

// TestApplyBatchChecksEachFile: in one batch, every file gets the checks of
// a single apply right before its rename: a target edited meanwhile (or a
// local file never synced) is kept and reported as an edit (the scan then
// reports it and the tracker keeps both versions), an obsolete version is
// not written, and the others are put in place, staged in the index and
// noted as owned.
func TestApplyBatchChecksEachFile(t *testing.T) {
	d := applyFixture(t)
	root := d.root
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		path   string
		setup  func(t *testing.T, m *manifest.Manifest) // before the batch
		want   outcome
		onDisk []byte // nil: the new version
	}{
		{name: "new file", path: "dir/new.bin", want: done},
		{name: "synced old version replaced", path: "synced.bin", want: done,
			setup: func(t *testing.T, m *manifest.Manifest) { syncedFile(t, d, m.Path, []byte("old version")) }},
		{name: "edited meanwhile", path: "dir/edited.bin", want: edited, onDisk: []byte("edited here, longer than before"),
			setup: func(t *testing.T, m *manifest.Manifest) {
				syncedFile(t, d, m.Path, []byte("old version"))
				writeLocal(t, root, m.Path, []byte("edited here, longer than before"))
			}},
		{name: "local file never synced", path: "local.bin", want: edited, onDisk: []byte("mine"),
			setup: func(t *testing.T, m *manifest.Manifest) { writeLocal(t, root, m.Path, []byte("mine")) }},
		{name: "newer version wanted", path: "obsolete.bin", want: obsolete,
			setup: func(t *testing.T, m *manifest.Manifest) {
				newer := version(t, m.Path, []byte("newer"), mtime)
				if err := d.idx.Update(index.Batch{Wants: []index.Want{{Manifest: newer, Seq: 9}}}); err != nil {
					t.Fatal(err)
				}
			}},
	}
	r := &round{p: d.pull}
	var batch []readyFile
	versions := map[string]manifest.Manifest{}
	for i, tt := range tests {
		data := bytes.Repeat([]byte{byte(i + 1)}, 5000+i)
		m := version(t, tt.path, data, mtime)
		versions[tt.path] = m
		if err := d.idx.Update(index.Batch{Wants: []index.Want{{Manifest: m, Seq: uint64(i + 1)}}}); err != nil {
			t.Fatal(err)
		}
		if tt.setup != nil {
			tt.setup(t, &m)
		}
		abs, _, err := target(root, m.Path, createParents)
		if err != nil {
			t.Fatal(err)
		}
		part, err := d.store.Partial(&m)
		if err != nil {
			t.Fatal(err)
		}
		if err := part.WritePiece(0, data); err != nil {
			t.Fatal(err)
		}
		if d.apply.seal(&m, part, i%2 == 0) != done { // synced here, or by applyBatch
			t.Fatalf("%s: seal failed", tt.name)
		}
		batch = append(batch, readyFile{w: index.Want{Manifest: m}, part: part, abs: abs})
	}

	d.apply.applyBatch(r, batch)

	var owned []string
	for _, m := range r.owned {
		owned = append(owned, m.Path)
	}
	finished := map[string]bool{}
	for _, f := range r.finished {
		finished[f.Path] = true
	}
	for i, tt := range tests {
		m := versions[tt.path]
		abs := filepath.Join(root, filepath.FromSlash(tt.path))
		got, err := os.ReadFile(abs)
		ie, inIndex := d.idx.Get(tt.path)
		switch tt.want {
		case done:
			data := bytes.Repeat([]byte{byte(i + 1)}, 5000+i)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%s: target does not hold the new version (err %v)", tt.name, err)
			}
			fi, err := os.Lstat(abs)
			if err != nil || !inIndex || ie.Manifest.ID != m.ID || ie.Stat != scan.StatOf(fi) {
				t.Errorf("%s: index entry %+v (in index %v) does not prove the file on disk unchanged", tt.name, ie.Stat, inIndex)
			}
			if !finished[tt.path] || !slices.Contains(owned, tt.path) {
				t.Errorf("%s: not finished and owned (finished %v, owned %v)", tt.name, finished[tt.path], owned)
			}
		default:
			switch {
			case tt.onDisk == nil && !os.IsNotExist(err):
				t.Errorf("%s: something was written: err %v, %d bytes", tt.name, err, len(got))
			case tt.onDisk != nil && !bytes.Equal(got, tt.onDisk):
				t.Errorf("%s: local file overwritten: %d bytes, want %q", tt.name, len(got), tt.onDisk)
			}
			if finished[tt.path] || slices.Contains(owned, tt.path) {
				t.Errorf("%s: outcome %d counted as applied", tt.name, tt.want)
			}
			if inIndex && ie.Manifest.ID == m.ID {
				t.Errorf("%s: index records the version not applied", tt.name)
			}
			// The download is kept: a later round commits it at once.
			p, err := d.store.Partial(&m)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !p.Complete() {
				t.Errorf("%s: the fetched version was not kept (missing %v)", tt.name, p.Missing())
			}
			p.Close()
		}
		if d.state.isApplying(tt.path) {
			t.Errorf("%s: still marked as applying", tt.name)
		}
	}
	if r.pending != 3 || !r.sawEdit {
		t.Errorf("pending %d, saw edit %v; want 3, true", r.pending, r.sawEdit)
	}
	if got := d.stats.FilesApplied.Load(); got != 2 {
		t.Errorf("FilesApplied = %d, want 2", got)
	}
}

// syncedFile writes data at rel and records it in the index as synced.
func syncedFile(t *testing.T, d *folder, rel string, data []byte) {
	t.Helper()
	writeLocal(t, d.root, rel, data)
	fi, err := os.Lstat(filepath.Join(d.root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	m := version(t, rel, data, fi.ModTime())
	if err := d.idx.Update(index.Batch{Put: []index.Entry{{Manifest: m, Stat: scan.StatOf(fi)}}}); err != nil {
		t.Fatal(err)
	}
}

func writeLocal(t *testing.T, root, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
