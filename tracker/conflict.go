package tracker

import (
	"path"
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
	const mark = ".sync-conflict-"
	dir, base := path.Split(p)
	i := strings.LastIndex(base, mark)
	if i <= 0 {
		return "", "", time.Time{}, false
	}
	stem, rest := base[:i], base[i+len(mark):]
	// rest: YYYYMMDD-HHMMSS-DEVICE[-N][.EXT]
	const stamp = "20060102-150405"
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
	dir, base := path.Split(p)
	ext := path.Ext(base)
	if ext == base { // ".bashrc": a dot file, not an extension
		ext = ""
	}
	stem := strings.TrimSuffix(base, ext)
	stamp := time.Unix(0, modTime).UTC().Format("20060102-150405")
	mark := ".sync-conflict-" + stamp + "-" + device.Short()
	var suffix string
	if n > 1 {
		suffix = "-" + strconv.Itoa(n)
	}
	room := min(manifest.MaxNameLen, manifest.MaxPathLen-len(dir)) - len(mark) - len(suffix)
	if len(stem)+len(ext) > room {
		if len(ext) >= room { // the extension alone does not fit: cut it with the name
			stem, ext = stem+ext, ""
		}
		stem = cutRunes(stem, max(0, room-len(ext)))
	}
	return dir + stem + mark + suffix + ext
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
