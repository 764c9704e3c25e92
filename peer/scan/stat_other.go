//go:build !unix

package scan

import "io/fs"

// statOf returns the Stat of an lstat result (no inode and no inode change
// time on this platform: size and modification time decide).
func statOf(fi fs.FileInfo) Stat {
	return Stat{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
}
