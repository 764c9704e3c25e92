package versions

import (
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// StampLayout is the time stamp in a kept version's name (UTC, seconds),
// the same as in conflict copies; `dartsync restore --at` accepts it too.
const StampLayout = "20060102-150405"

// splitExt splits a base name into stem and extension the way conflict
// copies do: the last extension including its dot ("a.tar.gz" keeps ".gz";
// ".bashrc" and "Makefile" have none).
func splitExt(base string) (stem, ext string) {
	ext = path.Ext(base)
	if ext == base {
		ext = ""
	}
	return strings.TrimSuffix(base, ext), ext
}

// stamp is the time stamp and, for seq >= 2, "-seq".
func stamp(t time.Time, seq int) string {
	s := t.UTC().Format(StampLayout)
	if seq >= 2 {
		s += "-" + strconv.Itoa(seq)
	}
	return s
}

// longName reports whether versions of base do not fit next to it under
// their normal name (manifest.MaxNameLen): they are kept in a directory
// named base instead (selfName).
func longName(base string) bool {
	return len(base)+len("~"+StampLayout+"-")+len(strconv.Itoa(maxSeq)) > manifest.MaxNameLen
}

// fileName returns the file name of a version of base kept at t: its
// versionName, or for a long name its selfName (in a directory named base).
func fileName(base string, t time.Time, seq int) string {
	if longName(base) {
		return selfName(base, t, seq)
	}
	return versionName(base, t, seq)
}

// versionName returns the name under which a version of the file named base
// kept at t is stored:
//
//	stem~YYYYMMDD-HHMMSS.ext      (seq 0 or 1)
//	stem~YYYYMMDD-HHMMSS-N.ext    (seq N >= 2: the Nth version kept in that second)
//
// The extension stays last so the kept file still opens with the right
// program, and versions of one file sort by time in a directory listing.
func versionName(base string, t time.Time, seq int) string {
	stem, ext := splitExt(base)
	return stem + "~" + stamp(t, seq) + ext
}

// selfName is the name of a version of a file whose name is too long
// (longName): ~YYYYMMDD-HHMMSS[-N].ext inside a directory named as the
// file; the extension is left out if even that does not fit. versionName
// never writes a name that starts with "~".
func selfName(base string, t time.Time, seq int) string {
	_, ext := splitExt(base)
	n := "~" + stamp(t, seq) + ext
	if len(n) > manifest.MaxNameLen {
		n = "~" + stamp(t, seq)
	}
	return n
}

// parseStamp reads a stamp and an optional "-N" (N >= 2) at the start of
// s and returns what follows.
func parseStamp(s string) (t time.Time, seq int, rest string, ok bool) {
	if len(s) < len(StampLayout) {
		return time.Time{}, 0, "", false
	}
	t, err := time.Parse(StampLayout, s[:len(StampLayout)])
	if err != nil {
		return time.Time{}, 0, "", false
	}
	rest = s[len(StampLayout):]
	if strings.HasPrefix(rest, "-") {
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		v, err := strconv.Atoi(rest[1:j])
		if err != nil || v < 2 {
			return time.Time{}, 0, "", false
		}
		seq, rest = v, rest[j:]
	}
	return t, seq, rest, true
}

// parseName is the inverse of versionName: it returns the original base
// name, the time and the sequence number of a kept version's name, and
// false for any name versionName cannot produce (temporary files, names
// edited by hand, selfNames).
func parseName(name string) (base string, t time.Time, seq int, ok bool) {
	for i := strings.LastIndexByte(name, '~'); i > 0; i = strings.LastIndexByte(name[:i], '~') {
		ts, n, rest, ok := parseStamp(name[i+1:])
		if !ok || (rest != "" && rest[0] != '.') {
			continue
		}
		b := name[:i] + rest
		if longName(b) || versionName(b, ts, n) != name {
			continue // not canonical: versionName would not write it
		}
		return b, ts, n, true
	}
	return "", time.Time{}, 0, false
}

// parseSelfName is the inverse of selfName for a version named name in a
// directory named base.
func parseSelfName(name, base string) (t time.Time, seq int, ok bool) {
	if !strings.HasPrefix(name, "~") || !longName(base) {
		return time.Time{}, 0, false
	}
	ts, n, _, ok := parseStamp(name[1:])
	if !ok || selfName(base, ts, n) != name {
		return time.Time{}, 0, false
	}
	return ts, n, true
}
