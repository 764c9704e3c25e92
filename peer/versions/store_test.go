package versions

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clock is a settable Options.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newStore(t *testing.T, opt Options) (*Store, *clock, string) {
	t.Helper()
	root := t.TempDir()
	c := &clock{t: t0}
	opt.Now = c.now
	return Open(root, opt), c, root
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	return string(b)
}

func TestKeep(t *testing.T) {
	tests := []struct {
		name     string
		link     func(string, string) error // nil: os.Link
		wantLink bool                       // the version shares the file's inode
	}{
		{"hard link", nil, true},
		{"copy across file systems", func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EXDEV} }, false},
		{"copy where links are not permitted", func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EPERM} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c, root := newStore(t, Options{})
			if tt.link != nil {
				s.link = tt.link
			}
			src := write(t, root, "docs/report.pdf", "v1")
			mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
			must(t, os.Chtimes(src, mtime, mtime))
			e, ok, err := s.Keep("docs/report.pdf")
			if err != nil || !ok {
				t.Fatalf("Keep = %v, %v", ok, err)
			}
			wantFile := filepath.Join(root, ".dartsync", "versions", "docs", "report~20250304-050607.pdf")
			if e.File != wantFile || e.Path != "docs/report.pdf" || !e.Time.Equal(t0) || e.Size != 2 || !e.ModTime.Equal(mtime) {
				t.Fatalf("Keep = %+v, want file %s", e, wantFile)
			}
			if got := readFile(t, e.File); got != "v1" {
				t.Fatalf("kept %q", got)
			}
			fi, _ := os.Stat(src)
			vi, _ := os.Stat(e.File)
			if os.SameFile(fi, vi) != tt.wantLink {
				t.Fatalf("version shares the inode: %v, want %v", os.SameFile(fi, vi), tt.wantLink)
			}
			if !vi.ModTime().Equal(mtime) || vi.Mode().Perm() != 0o644 {
				t.Fatalf("version mtime %v mode %v, want %v 0644", vi.ModTime(), vi.Mode(), mtime)
			}
			// The caller renames the new version over the path: the
			// kept bytes are unaffected.
			tmp := write(t, root, "new.tmp", "v2")
			must(t, os.Rename(tmp, src))
			if got := readFile(t, e.File); got != "v1" {
				t.Fatalf("after replace, kept %q", got)
			}
			// A second version in the same second gets -2; the next
			// second has its own name.
			e2, _, err := s.Keep("docs/report.pdf")
			must(t, err)
			if filepath.Base(e2.File) != "report~20250304-050607-2.pdf" || e2.Seq != 2 || readFile(t, e2.File) != "v2" {
				t.Fatalf("second Keep = %+v", e2)
			}
			c.t = c.t.Add(time.Second)
			e3, _, err := s.Keep("docs/report.pdf")
			must(t, err)
			if filepath.Base(e3.File) != "report~20250304-050608.pdf" {
				t.Fatalf("third Keep = %+v", e3)
			}
			// No temporary file is left behind.
			ents, _ := os.ReadDir(filepath.Dir(e.File))
			if len(ents) != 3 {
				t.Fatalf("versions dir holds %d entries, want 3", len(ents))
			}
		})
	}
}

func TestKeepNothingOrSameFile(t *testing.T) {
	s, _, root := newStore(t, Options{})
	if _, ok, err := s.Keep("missing.txt"); ok || err != nil {
		t.Fatalf("Keep(missing) = %v, %v", ok, err)
	}
	must(t, os.Mkdir(filepath.Join(root, "dir"), 0o755))
	if _, ok, err := s.Keep("dir"); ok || err != nil {
		t.Fatalf("Keep(dir) = %v, %v", ok, err)
	}
	must(t, os.Symlink("/etc/passwd", filepath.Join(root, "link")))
	if _, ok, err := s.Keep("link"); ok || err != nil {
		t.Fatalf("Keep(symlink) = %v, %v", ok, err)
	}
	write(t, root, "f", "x")
	a, _, err := s.Keep("f")
	must(t, err)
	b, _, err := s.Keep("f") // a retried apply: the same file is not kept twice
	must(t, err)
	if a.File != b.File {
		t.Fatalf("the same file kept twice: %s, %s", a.File, b.File)
	}
}

// TestKeepAfterPruneRemovedDir: Prune removing the (empty) directory
// between MkdirAll and the link does not lose the version.
func TestKeepAfterPruneRemovedDir(t *testing.T) {
	s, _, root := newStore(t, Options{})
	write(t, root, "a/b/f", "x")
	calls := 0
	s.link = func(o, n string) error {
		calls++
		if calls == 1 {
			must(t, os.Remove(filepath.Dir(n))) // what a concurrent Prune does
		}
		return os.Link(o, n)
	}
	e, ok, err := s.Keep("a/b/f")
	if err != nil || !ok || readFile(t, e.File) != "x" {
		t.Fatalf("Keep = %+v, %v, %v", e, ok, err)
	}
}

func TestRemove(t *testing.T) {
	s, _, root := newStore(t, Options{})
	src := write(t, root, "a/gone.txt", "old bytes")
	fi, err := os.Lstat(src)
	must(t, err)
	e, err := s.Remove("a/gone.txt", func(m fs.FileInfo) bool { return os.SameFile(m, fi) })
	must(t, err)
	if _, err := os.Lstat(src); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("file still there: %v", err)
	}
	if readFile(t, e.File) != "old bytes" || e.Size != 9 || e.Path != "a/gone.txt" {
		t.Fatalf("Remove = %+v", e)
	}
	// Gone already: nothing to do.
	if _, err := s.Remove("a/gone.txt", func(fs.FileInfo) bool { return true }); err != nil {
		t.Fatal(err)
	}
}

// TestRemoveEditedAtTheWorstMoment: the file is edited after the caller
// checked it and before it is removed; the edit must stay at its path.
func TestRemoveEditedAtTheWorstMoment(t *testing.T) {
	for _, copyPath := range []bool{false, true} {
		name := "rename"
		if copyPath {
			name = "copy"
		}
		t.Run(name, func(t *testing.T) {
			s, _, root := newStore(t, Options{})
			src := write(t, root, "doc.txt", "synced")
			checked, err := os.Lstat(src)
			must(t, err)
			if copyPath {
				// Another file system: no rename or link into versions.
				s.rename = func(o, n string) error { return &os.LinkError{Op: "rename", Old: o, New: n, Err: syscall.EXDEV} }
				s.link = func(o, n string) error { return &os.LinkError{Op: "link", Old: o, New: n, Err: syscall.EXDEV} }
			}
			must(t, os.WriteFile(src, []byte("edited at the worst moment"), 0o644)) // same inode, new mtime
			future := time.Now().Add(time.Hour)
			must(t, os.Chtimes(src, future, future))
			unchanged := func(m fs.FileInfo) bool { return m.ModTime().Equal(checked.ModTime()) && m.Size() == checked.Size() }
			_, err = s.Remove("doc.txt", unchanged)
			if !errors.Is(err, ErrChanged) {
				t.Fatalf("Remove = %v, want ErrChanged", err)
			}
			if got := readFile(t, src); got != "edited at the worst moment" {
				t.Fatalf("the edit is not at its path: %q", got)
			}
		})
	}
}

// TestRemoveEditedAndReplaced: the moved file turns out edited and a new
// file already took the path: neither is lost.
func TestRemoveEditedAndReplaced(t *testing.T) {
	s, _, root := newStore(t, Options{})
	src := write(t, root, "doc.txt", "edited")
	_, err := s.Remove("doc.txt", func(fs.FileInfo) bool {
		write(t, root, "doc.txt", "new file")
		return false
	})
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("Remove = %v, want ErrChanged", err)
	}
	if readFile(t, src) != "new file" {
		t.Fatal("the new file was replaced")
	}
	l, err := s.List("doc.txt")
	must(t, err)
	if len(l) != 1 || readFile(t, l[0].File) != "edited" {
		t.Fatalf("the edit is not kept: %+v", l)
	}
}

func TestRemoveCopyFallback(t *testing.T) {
	s, _, root := newStore(t, Options{})
	src := write(t, root, "x/y.bin", "bytes")
	fi, err := os.Lstat(src)
	must(t, err)
	s.rename = func(o, n string) error { return &os.LinkError{Op: "rename", Old: o, New: n, Err: syscall.EXDEV} }
	s.link = func(o, n string) error { return &os.LinkError{Op: "link", Old: o, New: n, Err: syscall.EXDEV} }
	e, err := s.Remove("x/y.bin", func(m fs.FileInfo) bool { return os.SameFile(m, fi) })
	must(t, err)
	if _, err := os.Lstat(src); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("not removed")
	}
	vi, err := os.Lstat(e.File)
	must(t, err)
	if readFile(t, e.File) != "bytes" || os.SameFile(vi, fi) || !vi.ModTime().Equal(fi.ModTime()) {
		t.Fatalf("copy %+v holds %q", e, readFile(t, e.File))
	}
	ents, err := os.ReadDir(filepath.Dir(e.File))
	must(t, err)
	if len(ents) != 1 {
		t.Fatalf("%d entries in the versions directory, want the copy only", len(ents))
	}
}

// TestLongNameKeepListRestore: a file whose name is too long for a
// version name beside it (250 bytes of CJK) is kept, listed and restored.
func TestLongNameKeepListRestore(t *testing.T) {
	s, c, root := newStore(t, Options{})
	rel := "dir/" + strings.Repeat("日", 82) + ".txt"
	p := write(t, root, rel, "v1")
	e, ok, err := s.Keep(rel)
	if err != nil || !ok {
		t.Fatalf("Keep = %v, %v", ok, err)
	}
	if filepath.Base(e.File) != "~20250304-050607.txt" || filepath.Base(filepath.Dir(e.File)) != filepath.Base(p) {
		t.Fatalf("kept as %s", e.File)
	}
	c.t = c.t.Add(time.Hour)
	if _, err := s.Remove(rel, func(fs.FileInfo) bool { return true }); err != nil {
		t.Fatal(err)
	}
	l, err := s.List("dir")
	must(t, err)
	if len(l) != 2 || l[0].Path != rel || l[1].Path != rel || l[0].File != e.File {
		t.Fatalf("List = %+v", l)
	}
	res, err := s.Restore(rel, t0)
	must(t, err)
	if readFile(t, p) != "v1" || res.From.File != e.File {
		t.Fatalf("Restore = %+v; file %q", res, readFile(t, p))
	}
}

// TestKeepPathTooLong: where the versions path would exceed the system's
// limit, the file is replaced or deleted without a version (refusing would
// stop its sync for good), and that is logged.
func TestKeepPathTooLong(t *testing.T) {
	s, _, root := newStore(t, Options{})
	// The file's path is 4080 bytes (the limit is 4095), its versions
	// path 35 bytes more.
	rel := ""
	for len(root)+1+len(rel)+201 < 4080-50 {
		rel += strings.Repeat("d", 200) + "/"
	}
	rel += strings.Repeat("f", 4080-len(root)-1-len(rel))
	p := write(t, root, rel, "x")
	if len(s.dir)+1+len(rel)+16 < 4096 || len(root)+1+len(rel) != 4080 {
		t.Fatalf("fixture: versions path of %d bytes is not too long", len(s.dir)+len(rel))
	}
	if _, ok, err := s.Keep(rel); ok || err != nil {
		t.Fatalf("Keep = %v, %v; want not kept, no error", ok, err)
	}
	if _, err := s.Remove(rel, func(fs.FileInfo) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("not removed: %v", err)
	}
}
