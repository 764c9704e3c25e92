package ignore

import (
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// Defaults returns the built-in patterns: editor and operating-system
// temporary files only (never .git/ or node_modules/, which people sync
// on purpose).
func Defaults() []string {
	return []string{
		"*.swp",        // vim swap files
		"*~",           // editor backups
		".~lock.*",     // LibreOffice locks
		"~$*",          // Microsoft Office owner files
		".DS_Store",    // macOS Finder
		"Thumbs.db",    // Windows Explorer
		"*.tmp",        // temporary files
		"*.part",       // partial downloads (Firefox, KDE)
		"*.crdownload", // partial downloads (Chrome)
	}
}

// Matcher is a set of rules: the defaults (if chosen) and an ignore file's
// patterns. It is immutable, safe for concurrent use; the nil Matcher
// ignores nothing.
type Matcher struct {
	rules    []rule
	defaults bool
	data     string // the ignore file's bytes
}

// New returns the Matcher of the defaults (when defaults is true) followed
// by the patterns of an ignore file's contents (data; nil for none), and
// the lines of data that can never match what they seem to.
func New(defaults bool, data []byte) (*Matcher, []Problem) {
	m := &Matcher{defaults: defaults, data: string(data)}
	if defaults {
		d, _ := parse([]byte(strings.Join(Defaults(), "\n")))
		m.rules = d
	}
	rules, problems := parse(data)
	m.rules = append(m.rules, rules...)
	return m, problems
}

// Same reports whether o was built from the same choice of defaults and the
// same ignore file contents (so it decides every path alike).
func (m *Matcher) Same(o *Matcher) bool {
	if m == nil || o == nil {
		return m == o
	}
	return m.defaults == o.defaults && m.data == o.data
}

// Len is the number of patterns, defaults included.
func (m *Matcher) Len() int {
	if m == nil {
		return 0
	}
	return len(m.rules)
}

// Match reports whether the folder-relative, slash-separated path (a
// directory if isDir) is excluded by the last pattern that matches it
// itself; its parent directories are not looked at (see Ignored). The
// ignore file itself is never excluded.
func (m *Matcher) Match(path string, isDir bool) bool {
	if m == nil || len(m.rules) == 0 || path == "" || path == FileName {
		return false
	}
	return m.excluded(strings.Split(path, "/"), isDir)
}

// Ignored reports whether the path is ignored: it, or one of its parent
// directories, is excluded (Match). A path below an excluded directory
// cannot be re-included, as in git.
func (m *Matcher) Ignored(path string, isDir bool) bool {
	if m == nil || len(m.rules) == 0 || path == "" || path == FileName {
		return false
	}
	elems := strings.Split(path, "/")
	for k := 1; k <= len(elems); k++ {
		if m.excluded(elems[:k], k < len(elems) || isDir) {
			return true
		}
	}
	return false
}

// excluded decides the path elems itself: the last rule that matches it
// (not only a parent of it) wins.
func (m *Matcher) excluded(elems []string, isDir bool) bool {
	for i := len(m.rules) - 1; i >= 0; i-- {
		if m.rules[i].matches(elems, isDir) {
			return !m.rules[i].negate
		}
	}
	return false
}

// matches reports whether the rule matches the path elems itself. go-git's
// patterns also match everything below a match (a name pattern matches any
// element of the path, an anchored one any path it is a prefix of); here a
// name pattern looks at the last element only, and an anchored one must
// use up the path (or, ending in "/**", leave some over).
func (r *rule) matches(elems []string, isDir bool) bool {
	if r.name {
		name := elems[len(elems)-1]
		if !strings.HasPrefix(name, r.pre) || !strings.HasSuffix(name, r.suf) {
			return false
		}
		return r.pat.Match(elems[len(elems)-1:], isDir) != gitignore.NoMatch
	}
	if r.pat.Match(elems, isDir) == gitignore.NoMatch {
		return false
	}
	left := r.dirPat.Match(elems, false) != gitignore.NoMatch
	return left == r.starStar
}

// Checker answers Ignored for many paths, remembering what it decided for
// their parent directories (a scan's diff asks about every indexed path).
// What it remembers is bounded (checkerDirs directories, then it starts
// over) and copied: the paths asked about are often slices of a larger
// buffer (an index page), which a remembered key would otherwise keep
// alive. It is not safe for concurrent use.
type Checker struct {
	m    *Matcher
	dirs map[string]bool // directory -> ignored
}

// checkerDirs bounds the directories a Checker remembers. Callers mostly
// ask in walk order, where a directory's paths come together, so a small
// cache serves nearly every question.
const checkerDirs = 1024

// Checker returns a Checker of m's rules.
func (m *Matcher) Checker() *Checker { return &Checker{m: m, dirs: make(map[string]bool)} }

// Ignored is m.Ignored(path, isDir).
func (c *Checker) Ignored(path string, isDir bool) bool {
	if c.m == nil || len(c.m.rules) == 0 || path == "" || path == FileName {
		return false
	}
	parent, _ := cutLast(path)
	return c.dirIgnored(parent) || c.m.excluded(strings.Split(path, "/"), isDir)
}

// dirIgnored reports whether the directory dir ("" = the folder) is
// ignored, remembering the answer.
func (c *Checker) dirIgnored(dir string) bool {
	if dir == "" {
		return false
	}
	if v, ok := c.dirs[dir]; ok {
		return v
	}
	parent, _ := cutLast(dir)
	v := c.dirIgnored(parent) || c.m.excluded(strings.Split(dir, "/"), true)
	if len(c.dirs) >= checkerDirs {
		clear(c.dirs)
	}
	c.dirs[strings.Clone(dir)] = v
	return v
}

// cutLast splits a path at its last slash: ("a/b", "c") for "a/b/c", ("",
// "c") for "c".
func cutLast(path string) (dir, name string) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "", path
	}
	return path[:i], path[i+1:]
}
