package ignore

import (
	"strings"
	"testing"
)

// FuzzMatcher parses any ignore file and matches any path: never a panic,
// and Match of a path implies Ignored (a path excluded itself is ignored);
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
		match, ignored := m.Match(path, isDir), m.Ignored(path, isDir)
		if match && !ignored {
			t.Fatalf("%q: Match without Ignored (patterns %q)", path, data)
		}
		if isDir && ignored && !m.Ignored(path+"/x", false) {
			t.Fatalf("%q ignored but %q not (patterns %q)", path, path+"/x", data)
		}
	})
}
