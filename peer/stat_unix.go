//go:build !windows

package peer

import (
	"io/fs"
	"syscall"

	"github.com/dartsync/dartsync/peer/index"
)

// statOf returns the index stat of fi (size, mtime in ns, inode).
func statOf(fi fs.FileInfo) index.Stat {
	st := index.Stat{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.Inode = uint64(sys.Ino)
	}
	return st
}
