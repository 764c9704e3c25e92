package tracker

import (
	"path"
	"strings"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
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
func ConflictName(p string, modTime int64, device identity.DeviceID) string {
	dir, base := path.Split(p)
	ext := path.Ext(base)
	if ext == base { // ".bashrc": a dot file, not an extension
		ext = ""
	}
	stem := strings.TrimSuffix(base, ext)
	stamp := time.Unix(0, modTime).UTC().Format("20060102-150405")
	return dir + stem + ".sync-conflict-" + stamp + "-" + device.Short() + ext
}
