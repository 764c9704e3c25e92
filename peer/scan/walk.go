package scan

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/dartsync/dartsync/manifest"
)

// walk lists the folder: directories become entries, regular files become
// entries (reused from Prev when unchanged) or hashing jobs, everything else
// is skipped.
func (s *scanner) walk() error {
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
		if !strings.Contains(rel, "/") && strings.EqualFold(rel, manifest.StateDir) {
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if s.opt.Ignore != nil && s.opt.Ignore(rel, d != nil && d.IsDir()) {
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if err != nil {
			s.skipErr(rel, err.Error(), err)
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if verr := manifest.ValidatePath(rel); verr != nil {
			s.skip(rel, verr.Error())
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		s.progress.Walked++
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			s.skip(rel, "symlink (not followed)")
			return nil
		case !t.IsDir() && !t.IsRegular():
			s.skip(rel, fmt.Sprintf("not a regular file (%s)", t))
			return nil
		}
		fi, ierr := d.Info() // lstat
		if ierr != nil {
			if !errors.Is(ierr, fs.ErrNotExist) { // vanished: gone, not skipped
				s.skipErr(rel, ierr.Error(), ierr)
			}
			return nil
		}
		st := statOf(fi)
		if d.IsDir() {
			s.entries = append(s.entries, Entry{Manifest: manifest.NewDir(rel, st.ModTime), Stat: st})
			return nil
		}
		if m, ok := s.unchanged(rel, st, fi.Mode()); ok {
			s.entries = append(s.entries, Entry{Manifest: m, Stat: st})
			return nil
		}
		s.todo = append(s.todo, len(s.entries))
		s.entries = append(s.entries, Entry{Manifest: manifest.Manifest{Path: rel}, Stat: st})
		s.progress.TotalFiles++
		s.progress.TotalBytes += st.Size
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan %s: %w", s.root, err)
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
