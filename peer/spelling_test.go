package peer

import (
	"errors"
	"path"
	"slices"
	"strings"
	"testing"
)

// fakeNames is a folder on a file system that folds names with fold when
// it looks them up but lists them as created (case-preserving). With fuse,
// every spelling is its own inode (same is false for two spellings).
type fakeNames struct {
	paths    map[string]bool // exact paths of files and directories
	fold     func(string) string
	fuse     bool
	unlisted string // a directory that cannot be listed
}

func newFakeNames(fold func(string) string, paths ...string) *fakeNames {
	f := &fakeNames{paths: map[string]bool{}, fold: fold}
	for _, p := range paths {
		for d := p; d != "."; d = path.Dir(d) {
			f.paths[d] = true
		}
	}
	return f
}

// parent is the folder-relative directory of p ("" for the folder).
func parent(p string) string {
	if d := path.Dir(p); d != "." {
		return d
	}
	return ""
}

// resolve returns the exact path that rel looks up to.
func (f *fakeNames) resolve(rel string) (string, bool) {
	cur := ""
	for part := range strings.SplitSeq(rel, "/") {
		next, ok := "", false
		for p := range f.paths {
			if parent(p) == cur && f.fold(path.Base(p)) == f.fold(part) {
				next, ok = p, true
			}
		}
		if !ok {
			return "", false
		}
		cur = next
	}
	return cur, true
}

func (f *fakeNames) list(dir string) ([]string, error) {
	if f.unlisted != "" && dir == f.unlisted {
		return nil, errors.New("permission denied")
	}
	exact := ""
	if dir != "" {
		var ok bool
		if exact, ok = f.resolve(dir); !ok {
			return nil, errors.New("no such directory")
		}
	}
	var out []string
	for p := range f.paths {
		if parent(p) == exact {
			out = append(out, path.Base(p))
		}
	}
	slices.Sort(out)
	return out, nil
}

func (f *fakeNames) exists(p string) bool { _, ok := f.resolve(p); return ok }

func (f *fakeNames) same(a, b string) bool {
	ra, oka := f.resolve(a)
	rb, okb := f.resolve(b)
	if f.fuse && a != b {
		return false
	}
	return oka && okb && ra == rb
}

var (
	caseSensitive   = func(s string) string { return s }
	caseInsensitive = strings.ToLower
	// normalizing folds case and composes "e" + U+0301 into "é" (what a
	// normalization-insensitive file system does, for the names used here).
	normalizing = func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "e\u0301", "é")) }
)

// TestJudgeName: the name decisions of the local diff (a synced path the
// scan did not list) and of apply (a want whose target resolves), on fake
// listings of case-sensitive, case-insensitive and normalizing file
// systems.
func TestJudgeName(t *testing.T) {
	const nfc, nfd = "caf\u00e9.txt", "cafe\u0301.txt"
	tests := []struct {
		name      string
		fs        *fakeNames
		rel       string
		tracked   []string
		want      nameVerdict
		wantOrig  string
		wantDisk  string
		fuse      bool
		noListing string
	}{
		{"listed exactly", newFakeNames(caseInsensitive, "foo"), "foo", nil, nameExact, "", "", false, ""},
		{"case-only rename, new spelling untracked", newFakeNames(caseInsensitive, "Foo"), "foo", nil, nameRenamed, "foo", "Foo", false, ""},
		{"case clash with a synced path", newFakeNames(caseInsensitive, "a"), "A", []string{"a"}, nameClash, "A", "a", false, ""},
		{"directory renamed in case", newFakeNames(caseInsensitive, "dir/f"), "Dir/f", nil, nameRenamed, "Dir", "dir", false, ""},
		{"directory clash", newFakeNames(caseInsensitive, "dir/f"), "Dir/f", []string{"dir", "dir/f"}, nameClash, "Dir", "dir", false, ""},
		{"missing file in a clashing directory", newFakeNames(caseInsensitive, "dir/f"), "Dir/g", []string{"dir"}, nameClash, "Dir", "dir", false, ""},
		{"case-sensitive: other case is another file", newFakeNames(caseSensitive, "Foo"), "foo", nil, nameExact, "", "", false, ""},
		{"case-sensitive: both listed", newFakeNames(caseSensitive, "Foo", "foo"), "foo", []string{"Foo"}, nameExact, "", "", false, ""},
		{"case-insensitive: missing", newFakeNames(caseInsensitive, "bar"), "foo", nil, nameExact, "", "", false, ""},
		{"NFD on disk, NFC synced elsewhere", newFakeNames(normalizing, nfd), nfc, []string{nfd}, nameClash, nfc, nfd, false, ""},
		{"NFC renamed to NFD", newFakeNames(normalizing, nfd), nfc, nil, nameRenamed, nfc, nfd, false, ""},
		{"FUSE: one inode per spelling", newFakeNames(caseInsensitive, "Foo"), "foo", nil, nameRenamed, "foo", "Foo", true, ""},
		{"FUSE: ambiguous variants decide nothing", newFakeNames(caseInsensitive, "Foo", "FOO"), "foo", nil, nameExact, "", "", true, ""},
		{"unlistable directory decides nothing", newFakeNames(caseInsensitive, "d/Foo"), "d/foo", nil, nameExact, "", "", false, "d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fs.fuse, tt.fs.unlisted = tt.fuse, tt.noListing
			tracked := func(p string) bool { return slices.Contains(tt.tracked, p) }
			v, orig, disk := judgeName(tt.rel, tt.fs, tracked)
			if v != tt.want || orig != tt.wantOrig || disk != tt.wantDisk {
				t.Errorf("judgeName(%q) = %d %q %q, want %d %q %q", tt.rel, v, orig, disk, tt.want, tt.wantOrig, tt.wantDisk)
			}
		})
	}
}

// TestDiskSpelling: the full spelling of a path, used to recognize a
// remote case-only rename as the same local file.
func TestDiskSpelling(t *testing.T) {
	fs := newFakeNames(caseInsensitive, "Docs/ReadMe.md", "b")
	tests := []struct {
		rel    string
		want   string
		wantOK bool
	}{
		{"Docs/ReadMe.md", "Docs/ReadMe.md", true},
		{"docs/readme.MD", "Docs/ReadMe.md", true},
		{"B", "b", true},
		{"docs/missing", "", false},
	}
	for _, tt := range tests {
		got, ok := diskSpelling(tt.rel, fs)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("diskSpelling(%q) = %q %v, want %q %v", tt.rel, got, ok, tt.want, tt.wantOK)
		}
	}
}
