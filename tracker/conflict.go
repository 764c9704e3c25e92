package tracker

import (
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// ConflictName returns the name under which the losing version of a
// concurrent edit of p is kept:
//
//	name.sync-conflict-YYYYMMDD-HHMMSS-<device short>.ext
//
// The time is the losing version's modification time (ns since the epoch) in
// UTC, device is the device whose version lost, and ext is the last extension
// of the base name including its dot ("a.tar.gz" keeps ".gz"; ".bashrc" and
// "Makefile" have none).
//
// The name fits the limits of manifest.ValidatePath: where the final element
// would be longer than manifest.MaxNameLen bytes (or the path longer than
// manifest.MaxPathLen), name is shortened at a rune boundary, so it stays
// valid UTF-8; ext is kept unless it alone leaves no room, in which case it
// is shortened as part of the name. Names that fit are never changed. (Only
// a directory part within about 50 bytes of MaxPathLen leaves no room at all.)
func ConflictName(p string, modTime int64, device identity.DeviceID) string {
	return conflictName(p, modTime, device, 1)
}

// ParseConflictName reads a name ConflictName made: the path it is a copy
// of, the short ID of the device whose version it holds, and that
// version's modification time (UTC, to the second). ok is false for any
// other path. For a copy of a copy the last mark counts.
func ParseConflictName(p string) (original, device string, modTime time.Time, ok bool) {
	const mark = conflictMark
	dir, base := path.Split(p)
	i := strings.LastIndex(base, mark)
	if i <= 0 {
		return "", "", time.Time{}, false
	}
	stem, rest := base[:i], base[i+len(mark):]
	// rest: YYYYMMDD-HHMMSS-DEVICE[-N][.EXT]
	const stamp = conflictStamp
	if len(rest) < len(stamp)+2 || rest[len(stamp)] != '-' {
		return "", "", time.Time{}, false
	}
	t, err := time.Parse(stamp, rest[:len(stamp)])
	if err != nil {
		return "", "", time.Time{}, false
	}
	rest = rest[len(stamp)+1:]
	dev, ext := rest, ""
	if j := strings.IndexByte(rest, '.'); j >= 0 {
		dev, ext = rest[:j], rest[j:]
	}
	if j := strings.IndexByte(dev, '-'); j >= 0 {
		dev = dev[:j] // "-N": the n-th copy of the same second
	}
	if dev == "" {
		return "", "", time.Time{}, false
	}
	return dir + stem + ext, dev, t, true
}

// conflictName is ConflictName for the n-th candidate: n > 1 adds "-n" before the extension
// (the name is taken by another version), and the shortening leaves room
// for it.
func conflictName(p string, modTime int64, device identity.DeviceID, n int) string {
	dir, stem, ext := splitStem(p)
	stamp := time.Unix(0, modTime).UTC().Format(conflictStamp)
	mark := conflictMark + stamp + "-" + device.Short()
	if n > 1 {
		mark += "-" + strconv.Itoa(n)
	}
	stem, ext = fitStem(dir, stem, ext, len(mark))
	return dir + stem + mark + ext
}

const (
	conflictMark  = ".sync-conflict-"
	conflictStamp = "20060102-150405"
)

// splitStem splits p into its directory (with its final slash), the stem
// of its base name and its last extension ("" for a dot file: ".bashrc").
func splitStem(p string) (dir, stem, ext string) {
	dir, base := path.Split(p)
	ext = path.Ext(base)
	if ext == base { // ".bashrc": a dot file, not an extension
		ext = ""
	}
	return dir, strings.TrimSuffix(base, ext), ext
}

// fitStem shortens stem and ext so that a name stem + mark + ext, where
// mark is markLen bytes, fits in dir: stem is cut at a rune boundary, and
// ext is cut with it only if it alone leaves no room.
func fitStem(dir, stem, ext string, markLen int) (string, string) {
	room := min(manifest.MaxNameLen, manifest.MaxPathLen-len(dir)) - markLen
	if len(stem)+len(ext) > room {
		if len(ext) >= room { // the extension alone does not fit: cut it with the name
			stem, ext = stem+ext, ""
		}
		stem = cutRunes(stem, max(0, room-len(ext)))
	}
	return stem, ext
}

// ConflictPrefixes returns what every name ConflictName gives p (for any
// time and device, and the later candidates "-N" the tracker takes when a
// name is taken) starts with: its directory, its stem as kept and
// ".sync-conflict-". A name that fits keeps its whole stem: one prefix. A
// name shortened to fit may be cut a few bytes more for a longer "-N": one
// prefix per length of that suffix, at most four. IsConflictNameOf tells
// which of the names found under them are p's.
func ConflictPrefixes(p string) []string {
	dir, stem, ext := splitStem(p)
	var out []string
	for _, n := range markLens() {
		kept, _ := fitStem(dir, stem, ext, n)
		if pre := dir + kept + conflictMark; !slices.Contains(out, pre) {
			out = append(out, pre)
		}
	}
	return out
}

// IsConflictNameOf reports whether name is a name ConflictName, or a later
// candidate ("-N"), gives p for some time and device, shortened to fit or
// not. A shortened name is ambiguous: it is also a name of every path that
// agrees with p in what it keeps (and, to ParseConflictName, a copy of the
// shorter path it spells).
func IsConflictNameOf(name, p string) bool {
	dir, stem, ext := splitStem(p)
	if !strings.HasPrefix(name, dir) || strings.Contains(name[len(dir):], "/") {
		return false
	}
	base := name[len(dir):]
	for _, n := range markLens() {
		kept, e := fitStem(dir, stem, ext, n)
		if len(base) == len(kept)+n+len(e) && strings.HasPrefix(base, kept) &&
			strings.HasSuffix(base, e) && validMark(base[len(kept):len(kept)+n]) {
			return true
		}
	}
	return false
}

// markLens returns the lengths the mark of a conflict name (".sync-conflict-",
// the stamp, the device and "-N" from the second candidate on) can have.
func markLens() []int {
	fixed := len(conflictMark) + len(conflictStamp) + 1 + identity.ShortLen
	out := []int{fixed} // the first candidate: no "-N"
	for d := 1; d <= len(strconv.Itoa(maxConflictTries)); d++ {
		out = append(out, fixed+1+d) // "-2".."-9", "-10".."-99", ...
	}
	return out
}

// validMark reports whether mark is ".sync-conflict-YYYYMMDD-HHMMSS-DEVICE",
// maybe followed by "-N".
func validMark(mark string) bool {
	rest, ok := strings.CutPrefix(mark, conflictMark)
	if !ok || len(rest) < len(conflictStamp)+1+identity.ShortLen || rest[len(conflictStamp)] != '-' {
		return false
	}
	if _, err := time.Parse(conflictStamp, rest[:len(conflictStamp)]); err != nil {
		return false
	}
	rest = rest[len(conflictStamp)+1:]
	if strings.ContainsAny(rest[:identity.ShortLen], "-./") {
		return false
	}
	n := rest[identity.ShortLen:]
	if n == "" {
		return true
	}
	if len(n) < 2 || n[0] != '-' {
		return false
	}
	_, err := strconv.ParseUint(n[1:], 10, 32)
	return err == nil
}

// cutRunes returns the longest prefix of s of at most n bytes that ends at a
// rune boundary.
func cutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
