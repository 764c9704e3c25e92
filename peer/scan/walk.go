package scan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dartsync/dartsync/manifest"
)

// dirChunk is how many names of one directory are looked at (and
// lstat-ed, on the stat pool) at a time: the walk holds at most this many
// child records per directory level, whatever the directory's size.
const dirChunk = 256

// dirBufSize is the size of the walk's buffer for reading directories.
const dirBufSize = 32 << 10

// walkLevel is what the walk holds of the directory it is in at one depth:
// its names, and the chunk of them being handed on. Reused from one
// directory to the next at the same depth.
type walkLevel struct {
	ents []dirEnt
	kids []child
}

// walk lists the folder in walk order (each directory's names sorted,
// depth first): directories become entries, regular files become entries
// (reused from Prev when unchanged) or hashing jobs, everything else is
// skipped. Each path goes to deliver as a slot, in order. It closes jobs
// and the stat pool when it ends.
//
// It reads each directory once (names and types), then lstats the
// directories and regular files among its names dirChunk at a time on the
// stat pool, and hands them on in order, entering each directory right
// after its own entry. Its outcome per path is filepath.WalkDir's (the
// walk it replaces): the same paths, checks, skips and errors.
func (s *scanner) walk() error {
	defer close(s.jobs)
	defer s.stats.close()
	err := s.walkRoot()
	switch {
	case errors.Is(err, errStop), err != nil && s.ctx.Err() != nil:
		return fmt.Errorf("scan %s: %w", s.root, s.ctx.Err())
	case err != nil:
		return fmt.Errorf("scan %s: %w", s.root, err)
	}
	return nil
}

// walkRoot walks the folder's root: an unreadable root fails the scan; a
// root that is not a directory once lstat-ed (a symlink) holds nothing.
func (s *scanner) walkRoot() error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Lstat(s.root)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return nil
	}
	return s.walkDir(0, "", filepath.Clean(s.root)) // full paths as filepath.WalkDir's
}

// dirEnt is one name of a directory: its folder-relative path
// (slash-separated), the name (the end of rel) and its type bits from the
// directory listing.
type dirEnt struct {
	rel  string
	name string
	typ  fs.FileMode
}

// newDirEnt is the dirEnt of name in the directory at prefix ("" for the
// root): one allocation, the path.
func newDirEnt(prefix string, name []byte) dirEnt {
	if prefix == "" {
		rel := string(name)
		return dirEnt{rel: rel, name: rel}
	}
	rel := prefix + "/" + string(name) // no copy of name of its own
	return dirEnt{rel: rel, name: rel[len(prefix)+1:]}
}

// child is one name of a directory being walked: what the walk does with
// it, and its lstat once taken.
type child struct {
	dirEnt
	act    action
	reason string // actBad, actSkip
	st     Stat   // actStat, once lstat-ed
	perm   fs.FileMode
	err    error // the lstat's
}

// action is what the walk does with a child.
type action uint8

const (
	actNone action = iota // ignored, or the state directory: not listed
	actBad                // a name ValidatePath refuses: skipped, not counted
	actSkip               // a symlink or other non-regular file: skipped
	actStat               // a directory or regular file: lstat-ed, listed
)

// walkDir lists the directory at full (rel in the folder, "" for the root;
// depth levels below the root) and walks what it holds. An error reading
// it is returned: the caller skips the directory (or fails the scan, for
// the root).
func (s *scanner) walkDir(depth int, rel, full string) error {
	d, err := openDir(full)
	if err != nil {
		return err
	}
	defer d.close()
	for len(s.levels) <= depth {
		s.levels = append(s.levels, walkLevel{kids: make([]child, 0, dirChunk)})
	}
	if s.dirBuf == nil {
		s.dirBuf = make([]byte, dirBufSize)
	}
	lv := &s.levels[depth]
	ents, err := d.names(rel, s.dirBuf, lv.ents[:0])
	lv.ents = ents
	defer clear(ents) // the names are not kept alive by the walk
	if err != nil {
		return err
	}
	slices.SortFunc(ents, func(a, b dirEnt) int { return strings.Compare(a.name, b.name) })
	for len(ents) > 0 {
		n := min(len(ents), dirChunk)
		lv = &s.levels[depth] // (deeper levels may have moved s.levels)
		kids := s.classify(lv.kids[:0], ents[:n])
		lv.kids = kids
		ents = ents[n:]
		s.stats.lstat(d, kids)
		for i := range kids {
			if err := s.visit(depth, &kids[i], full); err != nil {
				return err
			}
			kids[i] = child{}
		}
	}
	return nil
}

// classify decides, in order, what the walk does with each of ents (the
// names of one directory): the checks filepath.WalkDir's callback
// made before its lstat.
func (s *scanner) classify(kids []child, ents []dirEnt) []child {
	for _, e := range ents {
		c := child{dirEnt: e}
		top := len(c.rel) == len(c.name)
		isDir := c.typ.IsDir()
		switch {
		case top && strings.EqualFold(c.name, manifest.StateDir):
			c.act = actNone
		case s.opt.Ignore != nil && s.opt.Ignore(c.rel, isDir):
			c.act = actNone
		default:
			if verr := manifest.ValidatePath(c.rel); verr != nil {
				c.act, c.reason = actBad, verr.Error()
				break
			}
			switch t := c.typ; {
			case t&fs.ModeSymlink != 0:
				c.act, c.reason = actSkip, "symlink (not followed)"
			case !t.IsDir() && !t.IsRegular():
				c.act, c.reason = actSkip, fmt.Sprintf("not a regular file (%s)", t)
			default:
				c.act = actStat
			}
		}
		kids = append(kids, c)
	}
	return kids
}

// visit hands one child on and, for a directory, walks it. dir is the
// full path of the directory holding it.
func (s *scanner) visit(depth int, c *child, dir string) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	switch c.act {
	case actNone:
		return nil
	case actBad:
		return s.skipOrStop(c.rel, c.reason)
	}
	s.walked.Add(1)
	if c.act == actSkip {
		return s.skipOrStop(c.rel, c.reason)
	}
	isDir := c.typ.IsDir()
	switch {
	case c.err == nil:
		if !s.hand(c, isDir) {
			return errStop
		}
	case !errors.Is(c.err, fs.ErrNotExist) && !s.skip(c.rel, c.err.Error(), c.err): // vanished: gone, not skipped
		return errStop
	}
	if !isDir {
		return nil
	}
	// Entered even when its lstat failed, as filepath.WalkDir does: a
	// directory that is gone or unreadable is skipped for its read error.
	if err := s.walkDir(depth+1, c.rel, dir+string(os.PathSeparator)+c.name); err != nil {
		if cerr := s.ctx.Err(); cerr != nil {
			return cerr
		}
		if !s.skip(c.rel, err.Error(), err) {
			return errStop
		}
	}
	return nil
}

// hand sends the entry of a lstat-ed child: a directory, a file unchanged
// since Prev, or a file to hash. False if ctx is done.
func (s *scanner) hand(c *child, isDir bool) bool {
	st := c.st
	if isDir {
		return s.send(slot{entry: Entry{Manifest: manifest.NewDir(c.rel, st.ModTime), Stat: st}}, nil)
	}
	if m, ok := s.unchanged(c.rel, st, c.perm); ok {
		return s.send(slot{entry: Entry{Manifest: m, Stat: st}}, nil)
	}
	sl := slot{entry: Entry{Manifest: manifest.Manifest{Path: c.rel}, Stat: st}, res: make(chan event, 1)}
	s.totalFiles.Add(1)
	s.totalBytes.Add(st.Size)
	return s.send(sl, &job{rel: c.rel, st: st, res: sl.res})
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
