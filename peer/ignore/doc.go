// Package ignore decides which paths of a folder are kept out of sync: the
// built-in defaults and the folder's ignore file, in gitignore syntax,
// matched by go-git's gitignore patterns
// (github.com/go-git/go-git/v5/plumbing/format/gitignore).
//
// Terms:
//
//   - Ignore file: FileName (.dartsyncignore) at the top of the folder. It
//     is an ordinary synced file, and never ignored itself. Read reads it;
//     a missing file means no patterns. A file larger than MaxFileSize
//     (ErrTooLarge), not a regular file (ErrNotRegular) or unreadable is an
//     error: the caller keeps the rules it had.
//   - Pattern: one line of the ignore file, with gitignore's syntax: blank
//     lines and lines starting with # are skipped; a UTF-8 byte order mark
//     and CR line ends are dropped; trailing spaces are dropped unless
//     escaped with a backslash; \# and \! start a pattern with a literal # or
//     !; a leading ! negates (re-includes); a trailing / matches directories
//     only; a pattern with a / at its start or middle is anchored at the top
//     of the folder, one without matches a name at any depth; * and ? never
//     match /, [..] is a class; a leading **/, a trailing /** and a middle
//     /**/ match any number of directories.
//   - Defaults: patterns for editor and operating-system temporary files
//     (Defaults), placed before the ignore file's, so the ignore file can
//     re-include one with a negation. A caller may leave them out.
//   - Problem: a line that parsed but can never match what it seems to
//     (a malformed [ class, "**" inside a name, an empty pattern). The
//     pattern is kept (it matches nothing); the caller warns.
//   - Match: the last pattern that matches the path itself decides
//     (a negation re-includes), as in gitignore. Parent directories are
//     not looked at: Match is for a walker that never enters an excluded
//     directory.
//   - Ignored: Match of the path or of any of its parent directories. As in
//     git, a file cannot be re-included if a parent directory of it is
//     excluded.
//
// go-git's patterns also match everything below what they match, and take
// "!!x" for a double negation; Match and Ignored correct both, so the
// tests hold gitignore's documented examples. Differences from git that
// remain: "**" matches directories greedily, so "a/**/b" decides "a/b/x/b"
// by its first "b"; "**" inside a name ("a**b") matches nothing (a
// Problem); classes are Go's (path/filepath.Match), without POSIX classes
// such as [[:alpha:]]. Patterns are case-sensitive on every file system.
//
// A Checker answers Ignored for many paths, deciding each parent directory
// once; a name pattern turns down a name that lacks its literal prefix or
// suffix before go-git is asked.
package ignore
