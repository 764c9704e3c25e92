package chunkstore

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames src onto target unless something is there
// (renameat2 RENAME_NOREPLACE: one atomic step). A file system that does
// not support it (EINVAL) gets linkNoReplace.
func renameNoReplace(src, target string) error {
	err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, target, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return linkNoReplace(src, target)
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: src, New: target, Err: err}
	}
	return nil
}
