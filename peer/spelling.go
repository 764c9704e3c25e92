package peer

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// nameFS is what the peer asks the file system about names: on a
// case-insensitive (or normalization-insensitive) file system a path
// resolves even when no directory lists it under that exact name.
type nameFS interface {
	// list returns the exact names in the folder-relative directory dir
	// ("" is the folder).
	list(dir string) ([]string, error)
	// same reports whether the folder-relative paths a and b are one file.
	same(a, b string) bool
	// exists reports whether the folder-relative path p resolves.
	exists(p string) bool
}

// diskNames is the nameFS of the folder at root.
type diskNames struct{ root string }

func (n diskNames) abs(rel string) string { return filepath.Join(n.root, filepath.FromSlash(rel)) }

func (n diskNames) list(dir string) ([]string, error) { return listNames(n.abs(dir)) }

// listNames returns the exact names in the directory abs.
func listNames(abs string) ([]string, error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func (n diskNames) exists(p string) bool {
	_, err := os.Lstat(n.abs(p))
	return err == nil
}

func (n diskNames) same(a, b string) bool {
	fa, err := os.Lstat(n.abs(a))
	if err != nil {
		return false
	}
	fb, err := os.Lstat(n.abs(b))
	return err == nil && os.SameFile(fa, fb)
}

// spelling resolves rel, component by component, to the names its
// directories list, and returns the first component listed under another
// name: orig is rel up to that component, disk the same prefix as the file
// system spells it (a listed name equal to the component but for case, or,
// for names with non-ASCII bytes whose Unicode normalization may differ, a
// listed name that is the same file). differs is false if every existing
// component is listed under its own name (a missing one ends the walk), or
// if a directory cannot be listed.
func spelling(rel string, fs nameFS) (orig, disk string, differs bool) {
	for part := range strings.SplitSeq(rel, "/") {
		names, err := fs.list(disk)
		if err != nil {
			return "", "", false
		}
		name, found := listedAs(disk, part, names, fs)
		if !found {
			return "", "", false
		}
		orig, disk = path.Join(orig, part), path.Join(disk, name)
		if name != part {
			return orig, disk, true
		}
	}
	return "", "", false
}

// diskSpelling returns rel as its directories list it, component by
// component (see spelling); false if a component does not resolve or a
// directory cannot be listed.
func diskSpelling(rel string, fs nameFS) (string, bool) {
	disk := ""
	for part := range strings.SplitSeq(rel, "/") {
		names, err := fs.list(disk)
		if err != nil {
			return "", false
		}
		name, found := listedAs(disk, part, names, fs)
		if !found {
			return "", false
		}
		disk = path.Join(disk, name)
	}
	return disk, true
}

// listedAs returns the name under which dir lists part (see spelling);
// false if part does not resolve at all.
func listedAs(dir, part string, names []string, fs nameFS) (string, bool) {
	var folded []string
	for _, n := range names {
		if n == part {
			return n, true
		}
		if strings.EqualFold(n, part) {
			folded = append(folded, n)
		}
	}
	want := path.Join(dir, part)
	if !fs.exists(want) {
		return "", false
	}
	for _, n := range folded {
		if fs.same(path.Join(dir, n), want) {
			return n, true
		}
	}
	if len(folded) == 1 {
		// part resolves and is not listed: some file systems (FUSE ones)
		// give each spelling its own inode number, so a single case
		// variant is taken as the name.
		return folded[0], true
	}
	if !ascii(part) {
		for _, n := range names {
			if !ascii(n) && fs.same(path.Join(dir, n), want) {
				return n, true
			}
		}
	}
	return "", false
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// nameVerdict is what a path is, by the names its directories list.
type nameVerdict uint8

const (
	// nameExact: every existing component is listed under its own name
	// (also when a directory cannot be listed: nothing is decided then).
	nameExact nameVerdict = iota
	// nameRenamed: a component is listed under another spelling that no
	// synced path has: the user renamed it (foo -> Foo), or it is a local
	// file not scanned yet.
	nameRenamed
	// nameClash: a component is listed under the spelling of another
	// synced path: two names, one local file or directory.
	nameClash
)

// judgeName decides what rel is by its spelling on disk (see spelling).
// tracked reports whether a path is synced here (live in the index, or
// being applied). It returns the two prefixes that differ: rel's and the
// file system's.
func judgeName(rel string, fs nameFS, tracked func(string) bool) (v nameVerdict, orig, disk string) {
	orig, disk, differs := spelling(rel, fs)
	switch {
	case !differs:
		return nameExact, "", ""
	case tracked(disk):
		return nameClash, orig, disk
	default:
		return nameRenamed, orig, disk
	}
}
