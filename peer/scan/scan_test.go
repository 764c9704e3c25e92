package scan

import (
	"context"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

const ps = manifest.MinPieceSize

// reference builds the manifest of data independently of manifest.Build.
func reference(path string, data []byte, pieceSize int64) manifest.Manifest {
	m := manifest.Manifest{Path: path, Kind: manifest.KindFile, Size: int64(len(data)), PieceSize: pieceSize}
	for off := int64(0); off < int64(len(data)); off += pieceSize {
		p := data[off:min(off+pieceSize, int64(len(data)))]
		m.Pieces = append(m.Pieces, manifest.Piece{Hash: manifest.Hash(p), Weak: manifest.WeakSum(p)})
	}
	m.ID = manifest.FileID(m.Size, m.PieceSize, m.Pieces)
	return m
}

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func write(t testing.TB, root, rel string, data []byte, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // not subject to the umask
		t.Fatal(err)
	}
}

// testTree is the folder of the scan tests: rel path -> contents.
func testTree(t *testing.T) (string, map[string][]byte) {
	root := t.TempDir()
	files := map[string][]byte{
		"empty":                           nil,
		"one":                             {'x'},
		"a/b/c/deep.txt":                  []byte("deep"),
		"dir with spaces/file name.txt":   randomBytes(1, ps),
		"naïve/日本語 ファイル.bin":              randomBytes(2, ps+1),
		"big/large.bin":                   randomBytes(3, 40*ps+17), // the large-file path
		"a.txt":                           []byte("sorts between a and a/"),
		"nested/.dartsync/not-state-here": []byte("only the top-level state dir is skipped"),
	}
	for rel, data := range files {
		write(t, root, rel, data, 0o644)
	}
	write(t, root, "bin/tool.sh", []byte("#!/bin/sh\necho hi\n"), 0o755)
	files["bin/tool.sh"] = []byte("#!/bin/sh\necho hi\n")
	if err := os.MkdirAll(filepath.Join(root, "empty dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, root, ".dartsync/chunks.db", []byte("state"), 0o600)
	return root, files
}

func TestScanTree(t *testing.T) {
	root, files := testTree(t)
	outside := t.TempDir()
	write(t, outside, "secret", []byte("outside the folder"), 0o644)
	mustSymlink(t, filepath.Join(outside, "secret"), filepath.Join(root, "link-to-file"))
	mustSymlink(t, outside, filepath.Join(root, "a", "link-to-dir"))
	write(t, root, "bad\\name", []byte("backslash"), 0o644)
	write(t, root, "bad\xffutf8", []byte("not UTF-8"), 0o644)

	res, err := Scan(context.Background(), root, Options{PieceSize: ps})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Entry{}
	var paths []string
	for _, e := range res.Entries {
		got[e.Manifest.Path] = e
		paths = append(paths, e.Manifest.Path)
	}
	if !slices.IsSortedFunc(paths, walkCompare) {
		t.Errorf("entries not in walk order: %q", paths)
	}
	wantDirs := []string{"a", "a/b", "a/b/c", "big", "bin", "dir with spaces", "empty dir", "naïve", "nested", "nested/.dartsync"}
	wantPaths := append(slices.Collect(maps.Keys(files)), wantDirs...)
	slices.SortFunc(wantPaths, walkCompare)
	if !slices.Equal(paths, wantPaths) {
		t.Fatalf("entries:\n got %q\nwant %q", paths, wantPaths)
	}
	for rel, data := range files {
		e := got[rel]
		want := reference(rel, data, ps)
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		m := e.Manifest
		if !e.Hashed || m.ID != want.ID || m.Size != want.Size || !slices.Equal(m.Pieces, want.Pieces) || m.Kind != manifest.KindFile {
			t.Errorf("%s: hashed=%v id=%s size=%d, want id=%s size=%d", rel, e.Hashed, m.ID.Short(), m.Size, want.ID.Short(), want.Size)
		}
		if m.ModTime != fi.ModTime().UnixNano() || e.Stat.ModTime != m.ModTime || e.Stat.Size != m.Size {
			t.Errorf("%s: mtime %d stat %+v, disk mtime %d", rel, m.ModTime, e.Stat, fi.ModTime().UnixNano())
		}
		if wantExec := rel == "bin/tool.sh"; m.Exec != wantExec {
			t.Errorf("%s: Exec = %v, want %v", rel, m.Exec, wantExec)
		}
		if runtime.GOOS != "windows" && e.Stat.Inode == 0 {
			t.Errorf("%s: no inode", rel)
		}
	}
	for _, d := range wantDirs {
		if e := got[d]; e.Manifest.Kind != manifest.KindDir || e.Manifest.ID != manifest.DirID() || e.Hashed {
			t.Errorf("dir %s: %+v", d, e)
		}
	}
	skipped := map[string]string{}
	for _, s := range res.Skipped {
		skipped[s.Path] = s.Reason
	}
	for _, p := range []string{"link-to-file", "a/link-to-dir", "bad\\name", "bad\xffutf8"} {
		if _, ok := skipped[p]; !ok {
			t.Errorf("%q not reported as skipped (skipped: %q)", p, res.Skipped)
		}
	}
	if !strings.Contains(skipped["link-to-file"], "symlink") {
		t.Errorf("symlink skip reason %q", skipped["link-to-file"])
	}
	if len(skipped) != 4 {
		t.Errorf("skipped %q, want exactly the two symlinks and the two bad names", res.Skipped)
	}
	for p := range got {
		if strings.HasPrefix(p, ".dartsync") || strings.Contains(p, "secret") {
			t.Errorf("scanned %q", p)
		}
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks not available: %v", err)
	}
}

// prevOf turns a scan result into the Prev of the next scan, counting calls.
func prevOf(res Result, calls *int) Prev {
	byPath := map[string]Entry{}
	for _, e := range res.Entries {
		byPath[e.Manifest.Path] = e
	}
	return func(p string) (manifest.Manifest, Stat, bool) {
		*calls++
		e, ok := byPath[p]
		return e.Manifest, e.Stat, ok
	}
}

func TestScanUnchangedNotRehashed(t *testing.T) {
	root, files := testTree(t)
	first, err := Scan(context.Background(), root, Options{PieceSize: ps})
	if err != nil {
		t.Fatal(err)
	}
	var calls int
	var last Progress
	second, err := Scan(context.Background(), root, Options{PieceSize: ps, Prev: prevOf(first, &calls), Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if calls != len(files) {
		t.Errorf("Prev called %d times, want once per file (%d)", calls, len(files))
	}
	if last.TotalFiles != 0 || last.Files != 0 || last.Bytes != 0 {
		t.Errorf("unchanged rescan hashed something: %+v", last)
	}
	if len(second.Entries) != len(first.Entries) {
		t.Fatalf("rescan has %d entries, first scan %d", len(second.Entries), len(first.Entries))
	}
	for i, e := range second.Entries {
		if e.Hashed {
			t.Errorf("%s re-hashed although unchanged", e.Manifest.Path)
		}
		if f := first.Entries[i]; e.Manifest.ID != f.Manifest.ID || e.Stat != f.Stat {
			t.Errorf("%s: rescan entry differs", e.Manifest.Path)
		}
	}

	// Proof that the unchanged file is not read: a Prev that claims other
	// contents under the very same stat is believed (by design).
	const p = "dir with spaces/file name.txt"
	other := reference(p, []byte("other contents"), ps)
	trusting := func(path string) (manifest.Manifest, Stat, bool) {
		e := first.find(path)
		if e == nil {
			return manifest.Manifest{}, Stat{}, false
		}
		if path == p {
			m := other
			m.Size = e.Manifest.Size
			return m, e.Stat, true
		}
		return e.Manifest, e.Stat, true
	}
	third, err := Scan(context.Background(), root, Options{PieceSize: ps, Prev: trusting})
	if err != nil {
		t.Fatal(err)
	}
	if e := third.find(p); e == nil || e.Hashed || e.Manifest.ID != other.ID {
		t.Errorf("file with unchanged stat was read again: %+v", e)
	}
}

func TestScanChangedRehashed(t *testing.T) {
	root, files := testTree(t)
	first, err := Scan(context.Background(), root, Options{PieceSize: ps})
	if err != nil {
		t.Fatal(err)
	}
	// Appended, touched, replaced by a new inode, made executable, removed,
	// added.
	appended := append(slices.Clone(files["one"]), "more"...)
	write(t, root, "one", appended, 0o644)
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(root, "a.txt"), later, later)
	replaced := filepath.Join(root, "a", "b", "c", "deep.txt")
	write(t, root, "tmp-new", []byte("deep"), 0o644)
	os.Rename(filepath.Join(root, "tmp-new"), replaced)
	os.Chtimes(replaced, time.Unix(0, first.find("a/b/c/deep.txt").Stat.ModTime), time.Unix(0, first.find("a/b/c/deep.txt").Stat.ModTime))
	os.Chmod(filepath.Join(root, "empty"), 0o755)
	os.Remove(filepath.Join(root, "naïve", "日本語 ファイル.bin"))
	write(t, root, "new file", []byte("new"), 0o644)

	var calls int
	var last Progress
	res, err := Scan(context.Background(), root, Options{PieceSize: ps, Prev: prevOf(first, &calls), Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path       string
		wantHashed bool
		wantID     manifest.ID
		wantExec   bool
	}{
		{"one", true, reference("", appended, ps).ID, false},
		{"a.txt", true, reference("", files["a.txt"], ps).ID, false},                   // same bytes, new mtime
		{"a/b/c/deep.txt", true, reference("", files["a/b/c/deep.txt"], ps).ID, false}, // same size and mtime, new inode
		{"empty", haveCtime, reference("", nil, ps).ID, true},                          // mode only: a new ctime
		{"new file", true, reference("", []byte("new"), ps).ID, false},
		{"big/large.bin", false, reference("", files["big/large.bin"], ps).ID, false},
	}
	for _, tt := range tests {
		e := res.find(tt.path)
		if e == nil {
			t.Errorf("%s missing", tt.path)
			continue
		}
		if e.Hashed != tt.wantHashed || e.Manifest.ID != tt.wantID || e.Manifest.Exec != tt.wantExec {
			t.Errorf("%s: hashed=%v id=%s exec=%v, want hashed=%v id=%s exec=%v", tt.path,
				e.Hashed, e.Manifest.ID.Short(), e.Manifest.Exec, tt.wantHashed, tt.wantID.Short(), tt.wantExec)
		}
	}
	if res.find("naïve/日本語 ファイル.bin") != nil {
		t.Error("removed file still listed")
	}
	if wantFiles := 4 + boolInt(haveCtime); last.TotalFiles != int64(wantFiles) || last.Files != int64(wantFiles) || last.Bytes != last.TotalBytes ||
		last.TotalBytes != int64(len(appended)+len(files["a.txt"])+4+3) {
		t.Errorf("progress %+v, want %d files of %d bytes", last, wantFiles, len(appended)+len(files["a.txt"])+4+3)
	}

	// A different piece size re-hashes everything.
	res, err = Scan(context.Background(), root, Options{PieceSize: 2 * ps, Prev: prevOf(res, &calls)})
	if err != nil {
		t.Fatal(err)
	}
	if e := res.find("big/large.bin"); e == nil || !e.Hashed || e.Manifest.PieceSize != 2*ps {
		t.Errorf("piece size change did not re-hash: %+v", e)
	}
}

func (r Result) find(path string) *Entry {
	for i := range r.Entries {
		if r.Entries[i].Manifest.Path == path {
			return &r.Entries[i]
		}
	}
	return nil
}

func TestScanWorkersAgree(t *testing.T) {
	root, _ := testTree(t)
	var results []Result
	for _, w := range []int{1, 3, 16} {
		res, err := Scan(context.Background(), root, Options{PieceSize: ps, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	for _, r := range results[1:] {
		if !slices.EqualFunc(r.Entries, results[0].Entries, func(a, b Entry) bool {
			return a.Manifest.Path == b.Manifest.Path && a.Manifest.ID == b.Manifest.ID && a.Stat == b.Stat
		}) {
			t.Error("results differ with the number of workers")
		}
	}
}
