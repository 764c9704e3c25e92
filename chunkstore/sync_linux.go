package chunkstore

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// fdatasync flushes f's data (and the metadata needed to read it back).
func fdatasync(f *os.File) error { return onFD(f, unix.Fdatasync) }

// onFD runs call on f's descriptor, again as long as it is interrupted.
func onFD(f *os.File, call func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = call(int(fd))
			if serr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return serr
}

// syncFS makes everything written to the filesystem holding dir durable
// (syncfs(2): data and metadata of every file, then a cache flush). Only
// from Linux 5.8 does it report writeback errors: errNoSyncFS before.
func syncFS(dir string) error {
	if !syncFSReportsErrors() {
		return errNoSyncFS
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return onFD(d, unix.Syncfs)
}

// syncFSReportsErrors: the kernel is Linux 5.8 or later.
var syncFSReportsErrors = sync.OnceValue(func() bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	return kernelAtLeast(unix.ByteSliceToString(u.Release[:]), 5, 8)
})

// kernelAtLeast reports whether a release string such as "6.1.0-13-amd64"
// is at least major.minor.
func kernelAtLeast(release string, major, minor int) bool {
	var ma, mi int
	if n, _ := fmt.Sscanf(release, "%d.%d", &ma, &mi); n != 2 {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}
