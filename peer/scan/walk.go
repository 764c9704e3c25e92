package scan

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/dartsync/dartsync/manifest"
)

// walk lists the folder in walk order (filepath.WalkDir reads each
// directory's names sorted): directories become entries, regular files
// become entries (reused from Prev when unchanged) or hashing jobs,
// everything else is skipped. Each path goes to deliver as a slot, in
// order. It closes jobs when it ends.
func (s *scanner) walk() error {
	defer close(s.jobs)
	err := filepath.WalkDir(s.root, func(full string, d fs.DirEntry, err error) error {
		if cerr := s.ctx.Err(); cerr != nil {
			return cerr
		}
		if full == s.root {
			return err // an unreadable root fails the scan
		}
		rel, rerr := filepath.Rel(s.root, full)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		isDir := d != nil && d.IsDir()
		if !strings.Contains(rel, "/") && strings.EqualFold(rel, manifest.StateDir) {
			return skipDir(isDir)
		}
		if s.opt.Ignore != nil && s.opt.Ignore(rel, isDir) {
			return skipDir(isDir)
		}
		if err != nil {
			if !s.skip(rel, err.Error(), err) {
				return errStop
			}
			return skipDir(isDir)
		}
		if verr := manifest.ValidatePath(rel); verr != nil {
			if !s.skip(rel, verr.Error(), nil) {
				return errStop
			}
			return skipDir(isDir)
		}
		s.walked.Add(1)
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			return s.skipOrStop(rel, "symlink (not followed)")
		case !t.IsDir() && !t.IsRegular():
			return s.skipOrStop(rel, fmt.Sprintf("not a regular file (%s)", t))
		}
		fi, ierr := d.Info() // lstat
		if ierr != nil {
			if !errors.Is(ierr, fs.ErrNotExist) && !s.skip(rel, ierr.Error(), ierr) { // vanished: gone, not skipped
				return errStop
			}
			return nil
		}
		st := statOf(fi)
		sl, j := slot{entry: Entry{Manifest: manifest.NewDir(rel, st.ModTime), Stat: st}}, (*job)(nil)
		if !d.IsDir() {
			if m, ok := s.unchanged(rel, st, fi.Mode()); ok {
				sl.entry = Entry{Manifest: m, Stat: st}
			} else {
				sl = slot{entry: Entry{Manifest: manifest.Manifest{Path: rel}, Stat: st}, res: make(chan event, 1)}
				j = &job{rel: rel, st: st, res: sl.res}
				s.totalFiles.Add(1)
				s.totalBytes.Add(st.Size)
			}
		}
		if !s.send(sl, j) {
			return errStop
		}
		return nil
	})
	switch {
	case errors.Is(err, errStop), err != nil && s.ctx.Err() != nil:
		return fmt.Errorf("scan %s: %w", s.root, s.ctx.Err())
	case err != nil:
		return fmt.Errorf("scan %s: %w", s.root, err)
	}
	return nil
}

// skipDir is what the walk returns for a path it leaves out: SkipDir for a
// directory (not entered).
func skipDir(isDir bool) error {
	if isDir {
		return filepath.SkipDir
	}
	return nil
}

// skip hands on a skipped path: by choice (a symlink, a refused name, err
// nil) or unreadable because of err. False if ctx is done.
func (s *scanner) skip(path, reason string, err error) bool {
	s.opt.Log.Debug("scan: skipped", "path", path, "reason", reason)
	return s.send(slot{skip: &Skip{Path: path, Reason: reason, Err: err}}, nil)
}

// skipOrStop is skip by choice, as the walk's return value.
func (s *scanner) skipOrStop(path, reason string) error {
	if !s.skip(path, reason, nil) {
		return errStop
	}
	return nil
}

// unchanged returns the previous manifest of rel if the file is provably the
// same one: same size, mtime, inode and ctime (equal Stats), built with the
// same piece size. A Prev whose ctime is unknown (0) never matches a file
// that has one: it is hashed once.
func (s *scanner) unchanged(rel string, st Stat, mode fs.FileMode) (manifest.Manifest, bool) {
	if s.opt.Prev == nil {
		return manifest.Manifest{}, false
	}
	m, pst, ok := s.opt.Prev(rel)
	if !ok || m.Kind != manifest.KindFile || m.Deleted || m.Path != rel || pst != st ||
		m.Size != st.Size || (m.Size > 0 && m.PieceSize != s.opt.PieceSize) {
		return manifest.Manifest{}, false
	}
	m.ModTime = st.ModTime
	m.Exec = isExec(mode)
	return m, true
}

// isExec reports whether any execute bit is set.
func isExec(mode fs.FileMode) bool { return mode.Perm()&0o111 != 0 }
