//go:build !linux

package chunkstore

import "os"

// dirID tells one directory from another made at the same path later, as
// far as os.SameFile can (device and inode, or the platform's equivalent).
type dirID struct{ fi os.FileInfo }

func (a dirID) same(b dirID) bool { return os.SameFile(a.fi, b.fi) }

// statDirID reads the identity of the directory (or file) at path, not
// following a final symlink.
func statDirID(path string) (dirID, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return dirID{}, err
	}
	return dirID{fi: fi}, nil
}
