//go:build linux

package scan

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// dirHandle is an open directory of the walk: its names are lstat-ed
// relative to it (fstatat), without resolving its path again.
type dirHandle struct {
	f    *os.File
	fd   int
	path string
}

// openDir opens the directory at full for reading its names.
func openDir(full string) (*dirHandle, error) {
	f, err := os.Open(full)
	if err != nil {
		return nil, err
	}
	return &dirHandle{f: f, fd: int(f.Fd()), path: full}, nil
}

func (d *dirHandle) close() { d.f.Close() }

// lstat fills in c's Stat and permission bits, or its error (an
// *fs.PathError naming the full path, as os.Lstat's).
func (d *dirHandle) lstat(c *child) {
	var st unix.Stat_t
	err := unix.Fstatat(d.fd, c.name, &st, unix.AT_SYMLINK_NOFOLLOW)
	for errors.Is(err, unix.EINTR) {
		err = unix.Fstatat(d.fd, c.name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		c.err = &fs.PathError{Op: "lstat", Path: d.path + string(os.PathSeparator) + c.name, Err: err}
		return
	}
	c.st = Stat{Size: st.Size, ModTime: st.Mtim.Nano(), Inode: st.Ino, Ctime: st.Ctim.Nano()}
	c.perm = fs.FileMode(st.Mode & 0o777)
}
