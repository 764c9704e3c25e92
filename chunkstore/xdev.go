package chunkstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/dartsync/dartsync/manifest"
)

// renameOrCopy renames src onto target. When they are on different
// filesystems (a state directory configured on another disk) rename cannot
// work: the file is copied once into root/.dartsync/tmp (same filesystem as
// the folder, never scanned), synced, given src's mode and times, and renamed
// from there. This costs a second write of every byte, so it is logged.
// root/.dartsync must exist (it holds the folder marker): a missing one is
// an unmounted folder, never re-created here.
//
// t says whether a file at target may be replaced (Target).
func (s *Store) renameOrCopy(src, target string, t Target) error {
	err := renameTo(src, target, t)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	s.log.Warn("chunkstore: state directory is on another filesystem than the folder; committing by copy",
		"partial", src, "target", target)
	tmpDir := filepath.Join(s.paths.root, manifest.StateDir, "tmp")
	if err := os.Mkdir(tmpDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.CreateTemp(tmpDir, "commit-*")
	if err != nil {
		return err
	}
	tmp := out.Name()
	ok := false
	defer func() {
		if !ok {
			out.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copy across filesystems: %w", err)
	}
	// Best effort: a file system without permissions (FAT on a removable
	// disk) refuses, and the folder is synced all the same.
	_ = out.Chmod(fi.Mode().Perm())
	if err := out.Sync(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chtimes(tmp, fi.ModTime(), fi.ModTime()); err != nil {
		return err
	}
	if err := renameTo(tmp, target, t); err != nil {
		return err
	}
	ok = true
	return os.Remove(src)
}
