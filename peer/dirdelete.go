package peer

import (
	"errors"
	"io/fs"
	"path"
	"path/filepath"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// errUnsynced stops the walk of dirNotEmpty at the first local path the
// index does not hold as synced.
var errUnsynced = errors.New("unsynced")

// dirNotEmpty decides what becomes of a directory tombstone whose directory
// (rel, on disk at abs) is not empty. If everything in it is synced and
// unchanged, the deletions of its contents are still to come (a folder's
// tombstone has a lower sequence number than its children's, and may
// arrive in an earlier batch): the want waits, and a later pull removes the
// directory once they emptied it. If it holds anything the index does not
// have as synced (a file made or edited here, not reported yet), the
// directory is kept and a scan reports what is in it.
//
// An empty directory that could not be removed (rmErr: permissions) is
// retried.
func (a *applier) dirNotEmpty(rel, abs string, rmErr error) outcome {
	entries := 0
	err := filepath.WalkDir(abs, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return errUnsynced // unreadable: keep it
		}
		if p == abs {
			return nil
		}
		entries++
		sub, err := filepath.Rel(abs, p)
		if err != nil {
			return errUnsynced
		}
		child := path.Join(rel, filepath.ToSlash(sub))
		if a.ignore.ignored(child, de.IsDir()) {
			return errUnsynced // ignored local contents keep the directory
		}
		ie, ok := a.idx.Get(child)
		if !ok || ie.Manifest.Deleted {
			return errUnsynced
		}
		switch {
		case de.IsDir():
			if ie.Manifest.Kind != manifest.KindDir {
				return errUnsynced
			}
		case de.Type().IsRegular():
			fi, err := de.Info()
			if err != nil || ie.Manifest.Kind != manifest.KindFile || scan.StatOf(fi) != ie.Stat {
				return errUnsynced
			}
		default:
			return errUnsynced // a symlink or special file is never synced
		}
		return nil
	})
	if err == nil && entries == 0 {
		a.log.Warn("remove directory", "path", rel, "err", rmErr)
		return retry
	}
	if err == nil {
		a.log.Debug("directory deletion waits for its contents' deletions", "path", rel)
		return waiting
	}
	a.log.Info("directory deleted remotely but holds local files not synced yet: keeping it", "path", rel)
	kick(a.scanKick)
	return done
}
