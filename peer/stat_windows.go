package peer

import (
	"io/fs"

	"github.com/dartsync/dartsync/peer/index"
)

// statOf returns the index stat of fi (size, mtime in ns; no inode here).
func statOf(fi fs.FileInfo) index.Stat {
	return index.Stat{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
}
