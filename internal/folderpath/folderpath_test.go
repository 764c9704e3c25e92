package folderpath

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestRel(t *testing.T) {
	tests := []struct {
		goos     string // "" every system, "windows" only Windows, "unix" all but Windows
		name     string
		root, p  string
		wantRel  string
		inside   bool
		strictly bool // Below
	}{
		{"", "the root itself", "/data/sync", "/data/sync", ".", true, false},
		{"", "the root with a trailing slash", "/data/sync/", "/data/sync", ".", true, false},
		{"", "a file inside", "/data/sync", "/data/sync/a.txt", "a.txt", true, true},
		{"", "nested", "/data/sync", "/data/sync/a/b/c", "a/b/c", true, true},
		{"", "a name starting with two dots", "/data/sync", "/data/sync/..config", "..config", true, true},
		{"", "the state directory", "/data/sync", "/data/sync/.dartsync/index", ".dartsync/index", true, true},
		{"", "unclean but inside", "/data/sync", "/data/sync/a/../b", "b", true, true},
		{"", "the parent", "/data/sync", "/data", "", false, false},
		{"", "..", "/data/sync", "/data/sync/..", "", false, false},
		{"", "../x", "/data/sync", "/data/sync/../x", "", false, false},
		{"", "a sibling sharing the prefix", "/data/sync", "/data/sync2/a", "", false, false},
		{"", "absolute elsewhere", "/data/sync", "/etc/passwd", "", false, false},
		{"", "the file system root", "/data/sync", "/", "", false, false},
		{"", "absolute root, relative path", "/data/sync", "a.txt", "", false, false},
		{"", "both relative, inside", "sync", "sync/a", "a", true, true},
		{"", "both relative, outside", "sync", "other/a", "", false, false},
		// Lexical: a path below a symlink in the folder is inside whatever
		// the link points to (safe-path walks refuse to follow it), and a
		// path through a link to the folder is not (callers compare the
		// paths they were given, made absolute, not resolved).
		{"", "below a symlinked directory", "/data/sync", "/data/sync/link-to-etc/passwd", "link-to-etc/passwd", true, true},
		{"", "through a link to the folder", "/data/sync", "/home/u/sync-link/a", "", false, false},
		{"windows", "windows: inside", `C:\Users\u\sync`, `C:\Users\u\sync\a\b.txt`, `a\b.txt`, true, true},
		{"windows", "windows: case differs", `C:\Users\u\Sync`, `c:\users\u\sync\a`, `a`, true, true},
		{"windows", "windows: ..", `C:\Users\u\sync`, `C:\Users\u`, "", false, false},
		{"windows", "windows: ../x", `C:\Users\u\sync`, `C:\Users\u\sync\..\x`, "", false, false},
		{"windows", "windows: another volume", `C:\Users\u\sync`, `D:\sync\a`, "", false, false},
		{"windows", "windows: UNC elsewhere", `C:\Users\u\sync`, `\\server\share\a`, "", false, false},
		// On other systems a backslash is an ordinary character of a name.
		{"unix", "unix: backslash is a name character", "/data/sync", `/data/sync/..\x`, `..\x`, true, true},
	}
	for _, tt := range tests {
		if (tt.goos == "windows") != (runtime.GOOS == "windows") && tt.goos != "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			root, p := filepath.FromSlash(tt.root), filepath.FromSlash(tt.p)
			rel, ok := Rel(root, p)
			if rel != filepath.FromSlash(tt.wantRel) || ok != tt.inside {
				t.Errorf("Rel(%q, %q) = %q, %v; want %q, %v", root, p, rel, ok, tt.wantRel, tt.inside)
			}
			if got := Below(root, p); got != tt.strictly {
				t.Errorf("Below(%q, %q) = %v, want %v", root, p, got, tt.strictly)
			}
		})
	}
}

// TestRelIsLexical: a real symlink inside the folder that points outside
// does not change the answer (nothing is read from the disk), and neither
// does a path that does not exist.
func TestRelIsLexical(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Skipf("symlink: %v", err)
	}
	for _, tt := range []struct {
		p      string
		inside bool
	}{
		{filepath.Join(root, "link", "x"), true},
		{filepath.Join(root, "missing", "x"), true},
		{filepath.Join(outside, "x"), false},
	} {
		if _, ok := Rel(root, tt.p); ok != tt.inside {
			t.Errorf("Rel(%q, %q): inside %v, want %v", root, tt.p, ok, tt.inside)
		}
	}
}
