//go:build unix

package scan

import (
	"io/fs"
	"syscall"
)

// statOf returns the Stat of an lstat result.
func statOf(fi fs.FileInfo) Stat {
	st := Stat{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.Inode = uint64(sys.Ino)
		st.Ctime = ctimeOf(sys)
	}
	return st
}
