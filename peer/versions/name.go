package versions

import (
	"path"
	"strconv"
	"strings"
	"time"
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
	stamp := t.UTC().Format(StampLayout)
	if seq >= 2 {
		stamp += "-" + strconv.Itoa(seq)
	}
	return stem + "~" + stamp + ext
}

// parseName is the inverse of versionName: it returns the original base
// name, the time and the sequence number of a kept version's name, and
// false for any name versionName cannot produce (temporary files, names
// edited by hand).
func parseName(name string) (base string, t time.Time, seq int, ok bool) {
	for i := strings.LastIndexByte(name, '~'); i >= 0; i = strings.LastIndexByte(name[:i], '~') {
		rest := name[i+1:]
		if len(rest) < len(StampLayout) {
			continue
		}
		ts, err := time.Parse(StampLayout, rest[:len(StampLayout)])
		if err != nil {
			continue
		}
		rest = rest[len(StampLayout):]
		n := 0
		if strings.HasPrefix(rest, "-") {
			j := 1
			for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			v, err := strconv.Atoi(rest[1:j])
			if err != nil || v < 2 {
				continue
			}
			n, rest = v, rest[j:]
		}
		if rest != "" && rest[0] != '.' {
			continue
		}
		b := name[:i] + rest
		if b == "" || versionName(b, ts, n) != name {
			continue // not canonical: versionName would not write it
		}
		return b, ts, n, true
	}
	return "", time.Time{}, 0, false
}
