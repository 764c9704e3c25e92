package chunkstore

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// dirID tells one directory from another made at the same path later: its
// device, inode and birth time. Inode numbers are reused at once on ext4 (a
// directory removed and made again often gets the same one); the birth time
// (statx, on file systems that record it) tells them apart.
type dirID struct {
	dev, ino  uint64
	bornSec   int64
	bornNsec  uint32
	bornKnown bool
}

func (a dirID) same(b dirID) bool { return a == b }

// statDirID reads the identity of the directory (or file) at path, not
// following a final symlink.
func statDirID(path string) (dirID, error) {
	var st unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_INO|unix.STATX_BTIME, &st)
	for errors.Is(err, unix.EINTR) {
		err = unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_INO|unix.STATX_BTIME, &st)
	}
	switch {
	case errors.Is(err, unix.ENOSYS): // before Linux 4.11: device and inode only
		fi, err := os.Lstat(path)
		if err != nil {
			return dirID{}, err
		}
		sys := fi.Sys().(*syscall.Stat_t)
		return dirID{dev: uint64(sys.Dev), ino: sys.Ino}, nil
	case err != nil:
		return dirID{}, &fs.PathError{Op: "statx", Path: path, Err: err}
	}
	id := dirID{dev: unix.Mkdev(st.Dev_major, st.Dev_minor), ino: st.Ino}
	if st.Mask&unix.STATX_BTIME != 0 {
		id.bornSec, id.bornNsec, id.bornKnown = st.Btime.Sec, st.Btime.Nsec, true
	}
	return id, nil
}
