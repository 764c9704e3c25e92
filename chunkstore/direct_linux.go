//go:build linux

package chunkstore

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// directSupported: this platform has O_DIRECT.
const directSupported = true

// writeDirect writes data at off in the existing file at path through a
// descriptor of its own opened with O_DIRECT, so the bytes go to the disk
// without filling the page cache. errNoDirect when the file system or the
// alignment refuses O_DIRECT (EINVAL); nothing was written then.
func writeDirect(path string, data []byte, off int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_DIRECT, 0)
	if err != nil {
		if errors.Is(err, unix.EINVAL) {
			return errNoDirect
		}
		return err
	}
	_, werr := f.WriteAt(data, off)
	cerr := f.Close()
	switch {
	case errors.Is(werr, unix.EINVAL):
		return errNoDirect
	case werr != nil:
		return werr
	}
	return cerr
}
