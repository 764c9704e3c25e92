package manifest

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// MaxPathLen is the longest path, in bytes, that ValidatePath accepts.
const MaxPathLen = 4096

// MaxNameLen is the longest path element (file or directory name), in bytes
// of UTF-8, that ValidatePath accepts: the limit of common file systems
// (NAME_MAX on Linux and macOS), so every accepted path can be created.
const MaxNameLen = 255

// StateDir is the folder-relative name of DartSync's own state directory.
// Nothing under it is ever synced.
const StateDir = ".dartsync"

// ErrBadPath is wrapped by every error ValidatePath returns.
var ErrBadPath = errors.New("invalid path")

// ValidatePath reports whether p may name a file in a synced folder: relative,
// slash-separated, clean (no "." or ".." elements, no empty elements, no
// trailing slash), not absolute, no NUL or backslash, valid UTF-8, not the
// state directory or anything under it, at most MaxPathLen bytes, and no
// element longer than MaxNameLen bytes. It is the one place that decides;
// every path from disk or the network passes it before use.
func ValidatePath(p string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrBadPath, truncate(p), why) }
	switch {
	case p == "":
		return bad("empty")
	case len(p) > MaxPathLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxPathLen))
	case !utf8.ValidString(p):
		return bad("not valid UTF-8")
	case strings.IndexByte(p, 0) >= 0:
		return bad("contains NUL")
	case strings.IndexByte(p, '\\') >= 0:
		return bad("contains a backslash")
	case p[0] == '/':
		return bad("absolute")
	case len(p) >= 2 && p[1] == ':':
		return bad("has a drive letter")
	case path.Clean(p) != p:
		return bad("not clean")
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == ".." || elem == "." || elem == "" {
			return bad("has a . or .. element")
		}
		if len(elem) > MaxNameLen {
			return bad(fmt.Sprintf("has a name longer than %d bytes", MaxNameLen))
		}
	}
	first, _, _ := strings.Cut(p, "/")
	if strings.EqualFold(first, StateDir) {
		return bad("inside " + StateDir)
	}
	return nil
}

func truncate(p string) string {
	if len(p) > 64 {
		return p[:64] + "…"
	}
	return p
}
