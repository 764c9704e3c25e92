package peer

import (
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// maxBadNames bounds the names remembered by warnBadNames; past it the set
// starts over (and its names are warned about again).
const maxBadNames = 4096

// warnBadNames warns once per name (per run of the daemon) about local
// files and directories that are not synced because manifest.ValidatePath
// refuses their names: a name longer than manifest.MaxNameLen bytes (a
// file system with UTF-16 names, such as NTFS, allows up to 765 bytes of
// UTF-8), a backslash, invalid UTF-8. The scan skips them (Skip), so they
// are neither reported nor taken for deleted, and nothing below a skipped
// directory is either. Call it from the scan loop only.
func (r *reporter) warnBadNames(skipped []scan.Skip) {
	for _, s := range skipped {
		err := manifest.ValidatePath(s.Path)
		if err == nil || r.badNames[s.Path] {
			continue
		}
		if r.badNames == nil || len(r.badNames) >= maxBadNames {
			r.badNames = make(map[string]bool)
		}
		r.badNames[s.Path] = true
		r.log.Warn("not synced: name not allowed (rename it to sync it)", "path", s.Path, "err", err)
	}
}

// warnUnreadable warns once per path and cause about local files and
// directories the scan could not read (scan.Skip.Err: a file chmod 000, a
// directory without read or search permission, an I/O error). They are
// not synced and not taken for deleted; the rest of the folder syncs. A
// path is warned about again only if its cause changes, or if it becomes
// unreadable again after a scan that read it (or did not find it). Call
// it from the scan loop only.
func (r *reporter) warnUnreadable(skipped []scan.Skip) {
	now := make(map[string]string)
	for _, s := range skipped {
		if s.Err == nil {
			continue
		}
		cause := writeCause(s.Err) // permission denied, read-only; else the error itself
		if cause == "" {
			cause = s.Reason
		}
		now[s.Path] = cause
		if r.unreadable[s.Path] != cause {
			r.log.Warn("not synced: cannot read it (fix its permissions to sync it)", "path", s.Path, "err", s.Err)
		}
	}
	for p := range r.unreadable {
		if _, ok := now[p]; !ok {
			r.log.Info("readable again (or gone)", "path", p)
		}
	}
	r.unreadable = now
}
