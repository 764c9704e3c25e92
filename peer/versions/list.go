package versions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// List returns the kept versions of the file at folder-relative p, or of
// every file below p if p is a directory, or of every file if p is "",
// ordered by path, then oldest first. Files in the versions directory
// whose names are not version names are left out.
func (s *Store) List(p string) ([]Entry, error) {
	p = strings.Trim(p, "/")
	var out []Entry
	err := s.walk(func(e Entry) {
		if p == "" || e.Path == p || strings.HasPrefix(e.Path, p+"/") {
			out = append(out, e)
		}
	}, nil)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if a.before(b) {
			return -1
		}
		if b.before(a) {
			return 1
		}
		return 0
	})
	return out, nil
}

// walk calls fn for every kept version and other (if not nil) for every
// other regular file, in no particular order. A missing versions
// directory is empty.
func (s *Store) walk(fn func(Entry), other func(abs string, fi fs.FileInfo)) error {
	err := filepath.WalkDir(s.dir, func(abs string, d fs.DirEntry, err error) error {
		if err != nil {
			if abs == s.dir && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil // pruned meanwhile
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		parent := relDir(s.dir, filepath.Dir(abs))
		rel := ""
		base, t, seq, ok := parseName(d.Name())
		if ok {
			rel = path.Join(parent, base)
		} else if parent != "" {
			// A version of a long name, in a directory named as the file.
			t, seq, ok = parseSelfName(d.Name(), path.Base(parent))
			rel = parent
		}
		if !ok {
			if other != nil {
				other(abs, fi)
			}
			return nil
		}
		fn(Entry{Path: rel, Time: t, Seq: seq, Size: fi.Size(), ModTime: fi.ModTime(), File: abs})
		return nil
	})
	if err != nil {
		return fmt.Errorf("versions: list %s: %w", s.dir, err)
	}
	return nil
}

// Choose returns the version of the file at p to restore: the newest kept
// at or before at, or the newest of all if at is zero. The error wraps
// ErrNoVersion if there is none.
func (s *Store) Choose(p string, at time.Time) (Entry, error) {
	p = strings.Trim(p, "/")
	all, err := s.List(p)
	if err != nil {
		return Entry{}, err
	}
	var best Entry
	found := false
	for _, e := range all {
		if e.Path != p || (!at.IsZero() && e.Time.After(at)) {
			continue
		}
		if !found || best.before(e) {
			best, found = e, true
		}
	}
	if !found {
		if at.IsZero() {
			return Entry{}, fmt.Errorf("%w of %q", ErrNoVersion, p)
		}
		return Entry{}, fmt.Errorf("%w of %q at or before %s", ErrNoVersion, p, at.Format(time.RFC3339))
	}
	return best, nil
}

// Restored says what Restore did.
type Restored struct {
	From Entry // the version put back
	// Kept is the file that was at the path before, now kept in versions
	// (zero if the path was empty).
	Kept Entry
	// Same: the file at the path already had the version's content;
	// nothing was changed.
	Same bool
}

// Restore puts a copy of the chosen version (see Choose) back at the
// folder-relative path p as a new local edit: its bytes and mode, with the
// modification time of now, so every scanner (the running peer's watcher,
// or the next start's scan) sees a changed file and reports it as the
// newest version. The copy is written to a temporary file first (in the
// versions directory, on the same file system) and renamed over the path,
// so the path never holds a partial file; whatever was at the path is kept
// in versions first. The kept version itself stays in versions. Missing
// parent directories are created; a parent that is a symlink or not a
// directory refuses the restore.
func (s *Store) Restore(p string, at time.Time) (Restored, error) {
	p = strings.Trim(p, "/")
	if err := manifest.ValidatePath(p); err != nil {
		return Restored{}, fmt.Errorf("versions: restore: %w", err)
	}
	from, err := s.Choose(p, at)
	if err != nil {
		return Restored{}, err
	}
	res := Restored{From: from}
	if err := s.safeParents(p); err != nil {
		return res, err
	}
	dst := s.abs(p)
	if fi, err := os.Lstat(dst); err == nil {
		if !fi.Mode().IsRegular() {
			return res, fmt.Errorf("versions: restore %q: the path is a %s, not a file: move it away first", p, kindOf(fi))
		}
		if same, err := sameBytes(from.File, dst); err == nil && same {
			res.Same = true
			return res, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("versions: restore %q: %w", p, err)
	}
	tmp, err := copyToTemp(from.File, s.dir, time.Time{})
	if err != nil {
		return res, fmt.Errorf("versions: restore %q: %w", p, err)
	}
	defer os.Remove(tmp) // no-op once renamed
	now := s.opt.Now()
	if err := os.Chtimes(tmp, now, now); err != nil {
		return res, fmt.Errorf("versions: restore %q: %w", p, err)
	}
	// Keep what is there, then rename over it, unless it changed between
	// the two (a peer applying a remote version): then keep that too.
	for range 5 {
		kept, ok, err := s.Keep(p)
		if err != nil {
			return res, err
		}
		if ok {
			if fi, err := os.Lstat(dst); err != nil || !sameStat(fi, kept) {
				continue
			}
			res.Kept = kept
		} else if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
			continue // something appeared
		}
		if err := renameInto(tmp, dst); err != nil {
			return res, fmt.Errorf("versions: restore %q: %w", p, err)
		}
		if err := syncDir(filepath.Dir(dst)); err != nil {
			s.log.Warn("versions: restored, but not made durable", "path", p, "err", err)
		}
		return res, nil
	}
	return res, fmt.Errorf("versions: restore %q: the file keeps changing", p)
}

// sameStat reports whether fi is the file kept as k (same inode where
// links were used, else same size and modification time).
func sameStat(fi fs.FileInfo, k Entry) bool {
	if kfi, err := os.Lstat(k.File); err == nil && os.SameFile(fi, kfi) {
		return true
	}
	return fi.Mode().IsRegular() && fi.Size() == k.Size && fi.ModTime().Equal(k.ModTime)
}

// renameInto renames tmp (in the versions directory) to dst; across file
// systems (a mount inside the folder) it copies to a temporary file next
// to dst first.
func renameInto(tmp, dst string) error {
	err := os.Rename(tmp, dst)
	if err == nil || !isCrossDevice(err) {
		return err
	}
	fi, err := os.Stat(tmp)
	if err != nil {
		return err
	}
	near, err := copyToTemp(tmp, filepath.Dir(dst), fi.ModTime())
	if err != nil {
		return err
	}
	if err := os.Rename(near, dst); err != nil {
		os.Remove(near)
		return err
	}
	return nil
}

// safeParents checks that every existing parent of p is a real directory
// (not a symlink) and creates the missing ones.
func (s *Store) safeParents(p string) error {
	parts := strings.Split(p, "/")
	cur := s.root
	for i, part := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("versions: restore %q: %w", p, err)
			}
			fi, err = os.Lstat(cur)
		}
		if err != nil {
			return fmt.Errorf("versions: restore %q: %w", p, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("versions: restore %q: parent %q is a %s, not a directory", p, strings.Join(parts[:i+1], "/"), kindOf(fi))
		}
	}
	return nil
}

func kindOf(fi fs.FileInfo) string {
	switch {
	case fi.IsDir():
		return "directory"
	case fi.Mode()&fs.ModeSymlink != 0:
		return "symlink"
	case fi.Mode().IsRegular():
		return "file"
	}
	return "special file"
}
