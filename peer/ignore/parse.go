package ignore

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// Problem is a line of the ignore file that can never match what it seems
// to (see the package documentation). Line counts from 1.
type Problem struct {
	Line   int
	Text   string
	Reason string
}

func (p Problem) String() string { return fmt.Sprintf("line %d %q: %s", p.Line, p.Text, p.Reason) }

// rule is one parsed pattern.
type rule struct {
	text   string // the pattern as written (trailing spaces dropped)
	negate bool   // a leading "!": re-include
	// name: no "/" before a trailing one, so the pattern matches a name at
	// any depth, decided by the last path element alone.
	name bool
	// pre and suf: for a name pattern without escapes, the literal text
	// before its first and after its last wildcard: a name that lacks them
	// cannot match, and is turned down without go-git's matching.
	pre, suf string
	// starStar: the pattern ends in "/**", which needs at least one path
	// element after what precedes it.
	starStar bool
	pat      gitignore.Pattern // the pattern, negation removed
	// dirPat is pat with a trailing "/" (directories only). go-git's
	// anchored patterns also match everything below what they match; dirPat
	// tells whether a match left path elements over (it matches a file
	// only then), which Match needs to decide on the path itself.
	dirPat gitignore.Pattern
}

// bom is the UTF-8 byte order mark some editors write first.
var bom = []byte{0xEF, 0xBB, 0xBF}

// parse parses the lines of an ignore file. It never fails: lines that
// cannot match are reported as Problems and kept (they match nothing).
func parse(data []byte) ([]rule, []Problem) {
	data = bytes.TrimPrefix(data, bom)
	var rules []rule
	var problems []Problem
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		line = trimTrailingSpaces(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, reason := parseLine(line)
		if reason != "" {
			problems = append(problems, Problem{Line: i + 1, Text: line, Reason: reason})
		}
		rules = append(rules, r)
	}
	return rules, problems
}

// trimTrailingSpaces drops the spaces that end s, except one escaped with a
// backslash (an odd number of backslashes before it).
func trimTrailingSpaces(s string) string {
	for strings.HasSuffix(s, " ") {
		n := 0
		for j := len(s) - 2; j >= 0 && s[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// parseLine parses one pattern (not blank, not a comment, trailing spaces
// gone); reason is non-empty for a Problem.
func parseLine(line string) (rule, string) {
	r := rule{text: line}
	body := line
	if strings.HasPrefix(body, "!") {
		r.negate = true
		body = body[1:]
	}
	// Backslashes are escapes for filepath.Match too (\#, \!, "\ "), so
	// the body goes to go-git as written, except that go-git would take a
	// second "!" for a negation too: "!!x" re-includes "!x".
	if strings.HasPrefix(body, "!") {
		body = `\` + body
	}
	stem := strings.TrimSuffix(body, "/")
	r.name = !strings.Contains(stem, "/")
	r.starStar = strings.HasSuffix(stem, "/**")
	if r.name && !strings.Contains(stem, `\`) {
		r.pre, r.suf = stem, stem
		if i := strings.IndexAny(stem, "*?["); i >= 0 {
			r.pre, r.suf = stem[:i], stem[strings.LastIndexAny(stem, "*?]")+1:]
		}
	}
	r.pat = gitignore.ParsePattern(body, nil)
	r.dirPat = gitignore.ParsePattern(stem+"/", nil)
	return r, check(stem)
}

// check tells why a pattern (without its negation and trailing "/") can
// never match, or "".
func check(stem string) string {
	if stem == "" || stem == "/" {
		return "empty pattern"
	}
	for _, part := range strings.Split(strings.TrimPrefix(stem, "/"), "/") {
		if part == "" {
			return "empty path element (//)"
		}
		if part != "**" && strings.Contains(part, "**") {
			return `"**" inside a name matches nothing (use "*")`
		}
		if _, err := filepath.Match(part, ""); err != nil {
			return fmt.Sprintf("malformed pattern %q: %v", part, err)
		}
	}
	return ""
}
