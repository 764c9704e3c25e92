package ignore

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// FuzzMatcher parses any ignore file and matches any path: never a panic,
// a name pattern's literal prefix and suffix never turn down a name go-git
// matches, a Checker agrees with Ignored, and Match of a path implies Ignored (a path excluded itself is ignored);
// a path below an ignored directory is ignored too. Seeds are in
// testdata/fuzz/FuzzMatcher.
func FuzzMatcher(f *testing.F) {
	f.Add([]byte("*.log\n!important.log\n"), "logs/important.log", false)
	f.Add([]byte("/*\n!/foo\n/foo/*\n!/foo/bar\n"), "foo/bar/x", false)
	f.Fuzz(func(t *testing.T, data []byte, path string, isDir bool) {
		m, problems := New(true, data)
		for _, p := range problems {
			if p.Line < 1 || p.Reason == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
		if len(data) == 0 || strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") || strings.Contains(path, "//") {
			return // not a folder-relative path
		}
		name := path[strings.LastIndexByte(path, '/')+1:]
		for _, r := range m.rules {
			if r.name && r.pat.Match([]string{name}, isDir) != gitignore.NoMatch &&
				(!strings.HasPrefix(name, r.pre) || !strings.HasSuffix(name, r.suf)) {
				t.Fatalf("%q: pattern %q matches %q but its literal prefix %q or suffix %q does not", path, r.text, name, r.pre, r.suf)
			}
		}
		match, ignored := m.Match(path, isDir), m.Ignored(path, isDir)
		if c := m.Checker(); c.Ignored(path, isDir) != ignored || c.Ignored(path, isDir) != ignored {
			t.Fatalf("%q: Checker differs from Ignored (patterns %q)", path, data)
		}
		if match && !ignored {
			t.Fatalf("%q: Match without Ignored (patterns %q)", path, data)
		}
		if isDir && ignored && !m.Ignored(path+"/x", false) {
			t.Fatalf("%q ignored but %q not (patterns %q)", path, path+"/x", data)
		}
	})
}
