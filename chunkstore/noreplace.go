package chunkstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Target says what a commit may find at its target.
type Target uint8

const (
	// Replace: a file there is replaced atomically (an update: the caller
	// checked, right before, that it is the synced version).
	Replace Target = iota
	// New: the target was found absent right before the commit; a file
	// that appeared there since (the user's, written between the check
	// and the rename) is never replaced: the commit fails with an error
	// wrapping ErrTargetExists, the file stays, and the partial is
	// resumable.
	New
)

// ErrTargetExists: a commit to a New target found a file there (wraps
// fs.ErrExist).
var ErrTargetExists = fmt.Errorf("chunkstore: a file appeared at the target: %w", fs.ErrExist)

// RenameNew renames src onto target unless a file is there (then it fails
// with ErrTargetExists and src stays): for a caller that found target
// absent and must not replace what appears there before the rename.
func RenameNew(src, target string) error { return renameTo(src, target, New) }

// renameTo renames src onto target as t says.
func renameTo(src, target string, t Target) error {
	if t == Replace {
		return os.Rename(src, target)
	}
	err := renameNoReplace(src, target)
	if errors.Is(err, fs.ErrExist) {
		return ErrTargetExists
	}
	return err
}

// linkNoReplace puts src at target only if nothing is there, without
// renameat2: a hard link fails if target exists; src is then removed. A
// file system without hard links (FAT) falls back to a check and a rename,
// which a write in between can still lose.
func linkNoReplace(src, target string) error {
	err := os.Link(src, target)
	switch {
	case err == nil:
		return os.Remove(src)
	case errors.Is(err, fs.ErrExist), errors.Is(err, syscall.EXDEV):
		return err
	}
	if _, serr := os.Lstat(target); serr == nil {
		return fs.ErrExist
	}
	return os.Rename(src, target)
}
