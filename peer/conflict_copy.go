package peer

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// keepConflictCopy makes the file at m's path also appear at name (a hard
// link when possible, else a copy), if it still has the stat st that was
// reported with m. It returns the stat to record for m's path: a hard link
// changes only the file's ctime, which must not make the file look edited
// (the winner's apply would wait for a rescan).
func (r *reporter) keepConflictCopy(m *manifest.Manifest, name string, st scan.Stat) (scan.Stat, error) {
	if !r.guard.present() {
		return st, errFolderPaused
	}
	p := m.Path
	src, _, err := target(r.root, p, existingParents)
	if err != nil {
		return st, err
	}
	dst, made, err := target(r.root, name, createParents)
	stageDirs(r.idx, made)
	if err != nil {
		return st, err
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return st, err
	}
	if scan.StatOf(fi) != st {
		return st, errors.New("file changed again since it was reported")
	}
	if dfi, err := os.Lstat(dst); err == nil {
		// Already there (an earlier attempt) only if it is this version:
		// anything else at that name must not pass for the copy, or the
		// winner would replace the only one.
		if os.SameFile(fi, dfi) {
			return st, nil
		}
		if dfi.Mode().IsRegular() && dfi.Size() == fi.Size() {
			if dm, err := manifest.BuildFile(context.Background(), r.root, name, m.PieceSize); err == nil && dm.ID == m.ID {
				return st, nil
			}
		}
		return st, fmt.Errorf("%q exists and is not this version", name)
	}
	if err := os.Link(src, dst); err != nil {
		return st, copyFile(src, dst, fi.Mode().Perm(), fi.ModTime())
	}
	return linkedStat(src, st), nil
}

// linkedStat returns the stat of src after a hard link was made to it: st
// with the new ctime if nothing but the ctime changed, else st (an edit
// raced the link: the next scan sees it).
func linkedStat(src string, st scan.Stat) scan.Stat {
	fi, err := os.Lstat(src)
	if err != nil {
		return st
	}
	now := scan.StatOf(fi)
	if now.Size == st.Size && now.ModTime == st.ModTime && now.Inode == st.Inode {
		return now
	}
	return st
}
