package ignore

import (
	"strings"
	"testing"
)

// TestMatcherGitignoreExamples checks the matcher against the examples of
// gitignore's documentation (PATTERN FORMAT and EXAMPLES) and the built-in
// defaults. match is the pattern list's answer for the path itself;
// ignored also counts excluded parent directories (what git does, since it
// never enters an excluded directory).
func TestMatcherGitignoreExamples(t *testing.T) {
	tests := []struct {
		name     string
		patterns string
		defaults bool
		path     string
		dir      bool
		match    bool
		ignored  bool
	}{
		{"name pattern, top", "hello.*", false, "hello.txt", false, true, true},
		{"name pattern, any depth", "hello.*", false, "a/hello.java", false, true, true},
		{"name pattern needs the prefix", "hello.*", false, "hello", false, false, false},
		{"name pattern matches a directory", "hello.*", false, "hello.d", true, true, true},
		{"name pattern: below a matched directory", "hello.*", false, "hello.d/x", false, false, true},
		{"leading slash anchors", "/hello.*", false, "hello.c", false, true, true},
		{"leading slash anchors: not below", "/hello.*", false, "a/hello.java", false, false, false},
		{"doc/frotz/ matches the directory", "doc/frotz/", false, "doc/frotz", true, true, true},
		{"doc/frotz/ is anchored", "doc/frotz/", false, "a/doc/frotz", true, false, false},
		{"doc/frotz/ not a file", "doc/frotz/", false, "doc/frotz", false, false, false},
		{"doc/frotz/ covers its contents", "doc/frotz/", false, "doc/frotz/x.txt", false, false, true},
		{"doc/frotz same as /doc/frotz", "doc/frotz", false, "doc/frotz", false, true, true},
		{"/doc/frotz", "/doc/frotz", false, "doc/frotz", true, true, true},
		{"frotz/ at any depth", "frotz/", false, "a/frotz", true, true, true},
		{"frotz/ not a file", "frotz/", false, "a/frotz", false, false, false},
		{"frotz/ covers its contents", "frotz/", false, "a/frotz/b", false, false, true},
		{"foo/* matches a file", "foo/*", false, "foo/test.json", false, true, true},
		{"foo/* matches a directory", "foo/*", false, "foo/bar", true, true, true},
		{"foo/* does not match deeper", "foo/*", false, "foo/bar/hello.c", false, false, true},
		{"foo/* not foo itself", "foo/*", false, "foo", true, false, false},
		{"**/foo at the top", "**/foo", false, "foo", false, true, true},
		{"**/foo anywhere", "**/foo", false, "a/b/foo", true, true, true},
		{"**/foo/bar", "**/foo/bar", false, "x/foo/bar", false, true, true},
		{"**/foo/bar at the top", "**/foo/bar", false, "foo/bar", false, true, true},
		{"**/foo/bar not bar alone", "**/foo/bar", false, "bar", false, false, false},
		{"abc/** inside", "abc/**", false, "abc/x", false, true, true},
		{"abc/** deep inside", "abc/**", false, "abc/x/y", false, true, true},
		{"abc/** not abc itself", "abc/**", false, "abc", true, false, false},
		{"abc/** is anchored", "abc/**", false, "a/abc/x", false, false, false},
		{"a/**/b zero directories", "a/**/b", false, "a/b", false, true, true},
		{"a/**/b one directory", "a/**/b", false, "a/x/b", false, true, true},
		{"a/**/b two directories", "a/**/b", false, "a/x/y/b", false, true, true},
		{"a/**/b not a/bb", "a/**/b", false, "a/bb", false, false, false},
		{"a/**/b is anchored", "a/**/b", false, "x/a/b", false, false, false},
		{"? matches one character", "a?c", false, "abc", false, true, true},
		{"? never matches /", "a?c", false, "a/c", false, false, false},
		{"[] class", "[a-c]x", false, "bx", false, true, true},
		{"[] class misses", "[a-c]x", false, "dx", false, false, false},
		{"negation re-includes", "*.log\n!important.log", false, "important.log", false, false, false},
		{"negation at any depth", "*.log\n!important.log", false, "logs/important.log", false, false, false},
		{"negation leaves the rest", "*.log\n!important.log", false, "x.log", false, true, true},
		{"last match wins", "!important.log\n*.log", false, "important.log", false, true, true},
		{"exclude all but foo/bar: foo/bar", "/*\n!/foo\n/foo/*\n!/foo/bar", false, "foo/bar", false, false, false},
		{"exclude all but foo/bar: foo/baz", "/*\n!/foo\n/foo/*\n!/foo/bar", false, "foo/baz", false, true, true},
		{"exclude all but foo/bar: other", "/*\n!/foo\n/foo/*\n!/foo/bar", false, "x", false, true, true},
		{"exclude all but foo/bar: foo", "/*\n!/foo\n/foo/*\n!/foo/bar", false, "foo", true, false, false},
		{"exclude all but foo/bar: inside bar", "/*\n!/foo\n/foo/*\n!/foo/bar", false, "foo/bar/x", false, false, false},
		{"no re-include below an excluded directory", "build/\n!build/keep.txt", false, "build/keep.txt", false, false, true},
		{"no re-include below foo/*", "foo/*\n!foo/bar/hello.c", false, "foo/bar/hello.c", true, false, true},
		{"only .go files: a .go file", "*\n!*/\n!*.go", false, "src/main.go", false, false, false},
		{"only .go files: another file", "*\n!*/\n!*.go", false, "src/x.txt", false, true, true},
		{"only .go files: a directory", "*\n!*/\n!*.go", false, "src", true, false, false},
		{"a re-included name does not re-include its contents", "*.log\n!foo", false, "foo/bar.log", false, true, true},
		{"README: any depth below docs", "docs/**/draft-*", false, "docs/a/b/draft-1.txt", false, true, true},
		{"README: anchored below docs", "docs/**/draft-*", false, "x/docs/draft-1.txt", false, false, false},
		{"a # later in a line is part of the pattern", "keep.log # note", false, "keep.log", false, false, false},
		{"comment", "#file", false, "#file", false, false, false},
		{"escaped hash", `\#file`, false, "#file", false, true, true},
		{"escaped bang", `\!important`, false, "!important", false, true, true},
		{"a negation of a name starting with !", "*\n!!keep", false, "!keep", false, false, false},
		{"a negation of a name starting with !: others", "*\n!!keep", false, "keep", false, true, true},
		{"trailing spaces dropped", "foo   ", false, "foo", false, true, true},
		{"escaped trailing space kept", `foo\ `, false, "foo ", false, true, true},
		{"escaped trailing space needed", `foo\ `, false, "foo", false, false, false},
		{"escaped space then spaces", `foo\   `, false, "foo ", false, true, true},
		{"blank lines and CRLF", "\r\n*.log\r\n\r\n!a.log\r\n", false, "a.log", false, false, false},
		{"CRLF pattern", "*.log\r\n", false, "b.log", false, true, true},
		{"byte order mark", "\xEF\xBB\xBF*.log", false, "b.log", false, true, true},
		{"the ignore file itself is never ignored", "*", false, FileName, false, false, false},
		{"an ignore file below the top is a file", "*", false, "a/" + FileName, false, true, true},
		{"no patterns", "", false, "x.swp", false, false, false},
		{"default *.swp", "", true, ".notes.txt.swp", false, true, true},
		{"default *~", "", true, "a/notes.txt~", false, true, true},
		{"default .~lock.*", "", true, ".~lock.report.odt#", false, true, true},
		{"default ~$*", "", true, "~$report.docx", false, true, true},
		{"default .DS_Store", "", true, "photos/.DS_Store", false, true, true},
		{"default Thumbs.db", "", true, "photos/Thumbs.db", false, true, true},
		{"default *.tmp", "", true, "x.tmp", false, true, true},
		{"default *.part", "", true, "movie.mkv.part", false, true, true},
		{"default *.crdownload", "", true, "movie.mkv.crdownload", false, true, true},
		{"defaults keep .git", "", true, ".git/config", false, false, false},
		{"defaults keep node_modules", "", true, "node_modules/x/index.js", false, false, false},
		{"defaults keep other files", "", true, "notes.txt", false, false, false},
		{"a default re-included", "!keep.tmp", true, "keep.tmp", false, false, false},
		{"a default re-included, others stay", "!keep.tmp", true, "x.tmp", false, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, problems := New(tc.defaults, []byte(tc.patterns))
			if len(problems) > 0 {
				t.Fatalf("problems: %v", problems)
			}
			if got := m.Match(tc.path, tc.dir); got != tc.match {
				t.Errorf("Match(%q, dir=%v) with %q = %v, want %v", tc.path, tc.dir, tc.patterns, got, tc.match)
			}
			if got := m.Ignored(tc.path, tc.dir); got != tc.ignored {
				t.Errorf("Ignored(%q, dir=%v) with %q = %v, want %v", tc.path, tc.dir, tc.patterns, got, tc.ignored)
			}
			if got := m.Checker().Ignored(tc.path, tc.dir); got != tc.ignored {
				t.Errorf("Checker().Ignored(%q, dir=%v) with %q = %v, want %v", tc.path, tc.dir, tc.patterns, got, tc.ignored)
			}
		})
	}
}

// TestParseProblems: lines that can never match are reported (and kept,
// matching nothing); good lines are not.
func TestParseProblems(t *testing.T) {
	tests := []struct {
		line    string
		wantErr string // a substring of the Problem's reason; "" = none
	}{
		{"*.log", ""},
		{"!important.log", ""},
		{"a/**/b", ""},
		{"**", ""},
		{"[abc", "malformed pattern"},
		{"a**b", `"**" inside a name`},
		{"/", "empty pattern"},
		{"!", "empty pattern"},
		{"a//b", "empty path element"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			m, problems := New(false, []byte("# comment\n"+tc.line+"\n"))
			switch {
			case tc.wantErr == "" && len(problems) > 0:
				t.Fatalf("problems: %v", problems)
			case tc.wantErr != "" && len(problems) != 1:
				t.Fatalf("problems %v, want one with %q", problems, tc.wantErr)
			case tc.wantErr != "":
				if p := problems[0]; p.Line != 2 || !strings.Contains(p.Reason, tc.wantErr) {
					t.Fatalf("problem %v, want line 2 with %q", p, tc.wantErr)
				}
			}
			if m.Len() != 1 {
				t.Fatalf("Len = %d, want 1", m.Len())
			}
		})
	}
}

func TestMatcherSame(t *testing.T) {
	a, _ := New(true, []byte("*.log\n"))
	b, _ := New(true, []byte("*.log\n"))
	c, _ := New(false, []byte("*.log\n"))
	d, _ := New(true, []byte("*.log\n!a.log\n"))
	var nilM *Matcher
	for _, tc := range []struct {
		name string
		x, y *Matcher
		want bool
	}{
		{"same", a, b, true},
		{"defaults differ", a, c, false},
		{"patterns differ", a, d, false},
		{"nil and nil", nilM, nilM, true},
		{"nil and one", nilM, a, false},
	} {
		if got := tc.x.Same(tc.y); got != tc.want {
			t.Errorf("%s: Same = %v, want %v", tc.name, got, tc.want)
		}
	}
	if nilM.Ignored("x.tmp", false) || nilM.Match("x.tmp", false) || nilM.Len() != 0 {
		t.Error("the nil Matcher ignores something")
	}
}
