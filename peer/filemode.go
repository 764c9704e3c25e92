package peer

import (
	"io/fs"
	"os"
)

// File modes of synced files (README, "File modes" bullet). Sync carries
// one bit of a file's mode, whether it is executable (manifest.Manifest.Exec);
// the other bits are this device's:
//
//   - A new file gets what a program creating it gets: 0666, or 0777 if it
//     is executable, less the process umask (like cp).
//   - A file replaced by a newer version, moved or kept as a conflict copy
//     keeps its permission bits; only the executable bits change, and only
//     when the executable bit changed: set where the file is readable (0600
//     becomes 0700, 0644 becomes 0755), or cleared.
//
// Set-user-ID, set-group-ID and sticky bits are never set on a synced file.

// defaultUmask is the umask assumed where it cannot be read.
const defaultUmask os.FileMode = 0o022

// syncedMode is the mode of a synced file that replaces the file at keep
// (a regular file there keeps its bits; anything else is a new file).
func syncedMode(keep string, exec bool, umask os.FileMode) os.FileMode {
	fi, err := os.Lstat(keep)
	if err != nil || !fi.Mode().IsRegular() {
		return newFileMode(exec, umask)
	}
	return keptMode(fi.Mode().Perm(), exec)
}

// newFileMode is the mode of a new file under umask.
func newFileMode(exec bool, umask os.FileMode) os.FileMode {
	if exec {
		return 0o777 &^ umask
	}
	return 0o666 &^ umask
}

// keptMode is perm with its executable bits made to say exec.
func keptMode(perm fs.FileMode, exec bool) fs.FileMode {
	switch {
	case (perm&0o111 != 0) == exec:
		return perm
	case exec:
		return perm | (perm&0o444)>>2
	default:
		return perm &^ 0o111
	}
}
