package versions

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// DirName is the versions directory's name inside manifest.StateDir.
const DirName = "versions"

// Defaults for Options.
const (
	DefaultMaxAge     = 30 * 24 * time.Hour
	DefaultMaxPercent = 10.0
)

// maxSeq bounds the versions of one file kept in the same second.
const maxSeq = 10000

var (
	// ErrChanged is wrapped by Remove when the file changed between the
	// caller's check and its removal: it is left in place (or, if
	// something new took its path meanwhile, kept in versions).
	ErrChanged = errors.New("versions: file changed before it was removed")
	// ErrNoVersion is wrapped by Restore when no kept version matches.
	ErrNoVersion = errors.New("versions: no kept version")
)

// Options configures a Store.
type Options struct {
	// MaxAge: versions kept longer than this are pruned; 0 = DefaultMaxAge.
	MaxAge time.Duration
	// MaxBytes caps the total size of the kept versions (oldest pruned
	// first); 0 = MaxPercent of the folder's file system.
	MaxBytes int64
	// MaxPercent is the cap in percent of the folder's file system size
	// when MaxBytes is 0; 0 = DefaultMaxPercent.
	MaxPercent float64
	Log        *slog.Logger
	// Now is the clock (tests); nil = time.Now.
	Now func() time.Time
}

// Store is the versions directory of one folder. It holds no state in
// memory beyond its options: every method reads the directory, so several
// processes (the peer, `dartsync restore`) may use it at once.
type Store struct {
	root string // the folder
	dir  string // root/.dartsync/versions
	opt  Options
	log  *slog.Logger
	// link makes a hard link (os.Link) and rename moves a file into the
	// versions directory (os.Rename); tests replace them to take the copy
	// paths.
	link   func(oldname, newname string) error
	rename func(oldpath, newpath string) error
}

// Open returns the Store of the folder at root (absolute). It does no I/O:
// the versions directory is created when the first version is kept.
func Open(root string, opt Options) *Store {
	if opt.MaxAge <= 0 {
		opt.MaxAge = DefaultMaxAge
	}
	if opt.MaxPercent <= 0 {
		opt.MaxPercent = DefaultMaxPercent
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{root: root, dir: Dir(root), opt: opt, log: log, link: os.Link, rename: os.Rename}
}

// Dir returns the versions directory of the folder at root.
func Dir(root string) string {
	return filepath.Join(root, manifest.StateDir, DirName)
}

// Entry is one kept version.
type Entry struct {
	Path    string    `json:"path"`     // folder-relative path of the file it was (slash-separated)
	Time    time.Time `json:"time"`     // when it was kept (UTC, whole seconds; from its name)
	Seq     int       `json:"seq"`      // 0, or N >= 2 for the Nth version kept in that second
	Size    int64     `json:"size"`     // bytes
	ModTime time.Time `json:"mod_time"` // the file's own modification time
	File    string    `json:"file"`     // absolute path of the kept file
}

// before orders entries by time, then sequence.
func (e Entry) before(o Entry) bool {
	if !e.Time.Equal(o.Time) {
		return e.Time.Before(o.Time)
	}
	return e.Seq < o.Seq
}

// abs returns the absolute path of folder-relative rel.
func (s *Store) abs(rel string) string { return filepath.Join(s.root, filepath.FromSlash(rel)) }

// Keep keeps the regular file at folder-relative rel in the versions
// directory before the caller replaces it (by renaming the new version over
// it, so the path never goes missing): as a hard link, or as a complete copy
// (written to a temporary file, then renamed) where the file system has no
// links. It returns false, and no error, if rel is not a regular file
// (nothing to keep). A file kept a moment ago (the same inode under this
// second's name) is not kept twice.
func (s *Store) Keep(rel string) (Entry, bool, error) {
	src := s.abs(rel)
	for range 3 {
		fi, err := os.Lstat(src)
		if errors.Is(err, fs.ErrNotExist) {
			return Entry{}, false, nil
		}
		if err != nil {
			return Entry{}, false, fmt.Errorf("versions: keep %q: %w", rel, err)
		}
		if !fi.Mode().IsRegular() {
			return Entry{}, false, nil
		}
		e, err := s.keep(rel, src, fi)
		if errors.Is(err, fs.ErrNotExist) {
			continue // the file went, or Prune removed an empty directory: look again
		}
		if errors.Is(err, syscall.ENAMETOOLONG) {
			// The folder's path is near the system's limit: no version
			// can be kept, and refusing would stop this file's sync.
			s.log.Warn("versions: path too long to keep a version; replaced or deleted without one", "path", rel, "err", err)
			return Entry{}, false, nil
		}
		if err != nil {
			return Entry{}, false, fmt.Errorf("versions: keep %q: %w", rel, err)
		}
		return e, true, nil
	}
	return Entry{}, false, fmt.Errorf("versions: keep %q: %w", rel, fs.ErrNotExist)
}

// keep links (or copies) src, whose stat is fi, to a free version name.
func (s *Store) keep(rel, src string, fi fs.FileInfo) (Entry, error) {
	now := s.opt.Now().UTC().Truncate(time.Second)
	dir, base := s.versionDir(rel)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Entry{}, err
	}
	e := Entry{Path: rel, Time: now, Size: fi.Size(), ModTime: fi.ModTime()}
	for seq := 0; seq < maxSeq; seq++ {
		if seq == 1 {
			continue // the second version of a second is -2
		}
		dst := filepath.Join(dir, fileName(base, now, seq))
		err := s.link(src, dst)
		switch {
		case err == nil:
			e.Seq, e.File = seq, dst
			return e, nil
		case errors.Is(err, fs.ErrExist):
			if ofi, lerr := os.Lstat(dst); lerr == nil && os.SameFile(fi, ofi) {
				e.Seq, e.File = seq, dst
				return e, nil // kept already (a retried apply)
			}
			continue
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENAMETOOLONG):
			return Entry{}, err
		}
		// No hard links here (another file system, FAT, a policy): copy.
		s.log.Debug("versions: hard link impossible, copying", "path", rel, "err", err)
		return s.keepCopy(rel, src, dir, base, e)
	}
	return Entry{}, fmt.Errorf("more than %d versions in one second", maxSeq)
}

// keepCopy copies src into the versions directory under a free name; the
// copy is complete and durable before it gets its name.
func (s *Store) keepCopy(rel, src, dir, base string, e Entry) (Entry, error) {
	tmp, err := copyToTemp(src, dir, e.ModTime)
	if err != nil {
		return Entry{}, err
	}
	for seq := 0; seq < maxSeq; seq++ {
		if seq == 1 {
			continue
		}
		dst := filepath.Join(dir, fileName(base, e.Time, seq))
		if _, err := os.Lstat(dst); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			os.Remove(tmp)
			return Entry{}, err
		}
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return Entry{}, err
		}
		e.Seq, e.File = seq, dst
		return e, nil
	}
	os.Remove(tmp)
	return Entry{}, fmt.Errorf("more than %d versions in one second", maxSeq)
}

// Remove deletes the file at folder-relative rel by moving it into the
// versions directory (a rename: atomic, and whatever was written to the
// file up to that moment is kept). unchanged is asked about the moved
// file; if it says the file is not the one the caller meant to delete (an
// edit at the worst moment), the file is put back where it was unless
// something new is there, and the error wraps ErrChanged. Where the rename
// cannot be made (another file system) the file is copied, checked, then
// removed. A file that is already gone is no error.
func (s *Store) Remove(rel string, unchanged func(fs.FileInfo) bool) (Entry, error) {
	src := s.abs(rel)
	fi, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, nil
	}
	if err != nil {
		return Entry{}, fmt.Errorf("versions: remove %q: %w", rel, err)
	}
	if !fi.Mode().IsRegular() {
		return Entry{}, fmt.Errorf("versions: remove %q: not a regular file", rel)
	}
	now := s.opt.Now().UTC().Truncate(time.Second)
	dir, base := s.versionDir(rel)
	e := Entry{Path: rel, Time: now}
	var dst string
	for range 3 {
		if err = os.MkdirAll(dir, 0o700); err != nil {
			break
		}
		if dst, e.Seq, err = s.freeName(dir, base, now); err != nil {
			break
		}
		if err = s.rename(src, dst); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		if _, lerr := os.Lstat(src); errors.Is(lerr, fs.ErrNotExist) {
			return Entry{}, nil // gone meanwhile
		}
	}
	if err != nil {
		// Another file system, or a path too long: Keep decides.
		return s.removeCopy(rel, src, unchanged, err)
	}
	e.File = dst
	moved, err := os.Lstat(dst)
	if err != nil {
		return Entry{}, fmt.Errorf("versions: remove %q: %w", rel, err)
	}
	e.Size, e.ModTime = moved.Size(), moved.ModTime()
	if !unchanged(moved) {
		if perr := putBack(dst, src); perr != nil {
			s.log.Warn("versions: a file edited while it was deleted stays in versions", "path", rel, "kept", dst, "err", perr)
			return e, fmt.Errorf("%w: %q kept as %s", ErrChanged, rel, dst)
		}
		return Entry{}, fmt.Errorf("%w: %q", ErrChanged, rel)
	}
	return e, nil
}

// removeCopy is Remove where rename failed (renameErr): copy, check, remove.
func (s *Store) removeCopy(rel, src string, unchanged func(fs.FileInfo) bool, renameErr error) (Entry, error) {
	s.log.Debug("versions: rename into versions impossible, copying", "path", rel, "err", renameErr)
	fi, err := os.Lstat(src)
	if err != nil {
		return Entry{}, fmt.Errorf("versions: remove %q: %w", rel, err)
	}
	if !unchanged(fi) {
		return Entry{}, fmt.Errorf("%w: %q", ErrChanged, rel)
	}
	k, kept, err := s.Keep(rel)
	if err != nil {
		return Entry{}, err
	}
	after, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return k, nil // gone meanwhile
	}
	if err != nil || !unchanged(after) || kept && (after.Size() != k.Size || !after.ModTime().Equal(k.ModTime)) {
		return k, fmt.Errorf("%w: %q (a copy was kept as %s)", ErrChanged, rel, k.File)
	}
	if err := os.Remove(src); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return k, fmt.Errorf("versions: remove %q: %w", rel, err)
	}
	return k, nil
}

// freeName returns the first version name of base at t not in dir.
func (s *Store) freeName(dir, base string, t time.Time) (string, int, error) {
	for seq := 0; seq < maxSeq; seq++ {
		if seq == 1 {
			continue
		}
		p := filepath.Join(dir, fileName(base, t, seq))
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, seq, nil
		} else if err != nil {
			return "", 0, err
		}
	}
	return "", 0, fmt.Errorf("more than %d versions in one second", maxSeq)
}

// versionDir returns the directory that holds the versions of rel (for a
// long name, a directory named as the file: see longName) and rel's base
// name.
func (s *Store) versionDir(rel string) (string, string) {
	d, base := path.Split(rel)
	dir := filepath.Join(s.dir, filepath.FromSlash(strings.TrimSuffix(d, "/")))
	if longName(base) {
		dir = filepath.Join(dir, base)
	}
	return dir, base
}

// putBack moves kept back to orig unless something is at orig: a hard link
// (which fails if orig exists) then removal of kept; without links, a
// rename after a check.
func putBack(kept, orig string) error {
	err := os.Link(kept, orig)
	if err == nil {
		return os.Remove(kept)
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, lerr := os.Lstat(orig); !errors.Is(lerr, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", orig, fs.ErrExist)
	}
	return os.Rename(kept, orig)
}
