package scan

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

const (
	// largePieces: files of at least this many pieces are read through a
	// progress-counting reader; smaller ones go through manifest.BuildFile
	// (which sizes its buffer to the file).
	largePieces = 4
	// progressStep is how many bytes of a large file are read between two
	// progress events.
	progressStep = 16 << 20
	// maxAttempts bounds how often a file that changes while it is hashed is
	// hashed again before it is skipped.
	maxAttempts = 3
	// racyWindow: a file modified less than this long before it would be
	// hashed is hashed only once the window has passed. Filesystem timestamps
	// are coarse (a jiffy, up to 10 ms, on Linux): a write in the same tick as
	// the hashed one would leave size, mtime, inode and change time unchanged
	// and be missed by every later scan. Waiting guarantees any later write
	// gets a later change time. The window counts from the later of mtime
	// and change time: a rewrite that restores an old mtime (cp -p) is just
	// as recent. (Not enough for 2 s FAT timestamps.)
	racyWindow = 50 * time.Millisecond
)

// errRacy: the file was modified too recently to be hashed safely (see
// racyWindow); it is retried after the window.
var errRacy = errors.New("modified too recently")

// job is one file to hash; st is the walk's Stat, used for progress
// accounting; the outcome goes on res.
type job struct {
	rel string
	st  Stat
	res chan<- event
}

// event is a hashing worker's outcome for one file.
type event struct {
	entry   Entry
	skip    string // non-empty: skipped for this reason
	skipErr error  // what made it unreadable (Skip.Err)
	gone    bool   // vanished since the walk
	err     error  // ctx done
}

// hashJob hashes one file, retrying while it changes under the reader,
// and returns its outcome. The bytes it reads count in bytesRead (adding
// up to the walk's size of the file).
func (s *scanner) hashJob(j job) (ev event) {
	var reported int64
	progress := func(n int64) {
		reported += n
		s.bytesRead.Add(n)
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
	defer func() { s.bytesRead.Add(j.st.Size - reported) }()
	for range maxAttempts {
		m, st, err := s.hashFile(j.rel, progress)
		switch {
		case err == nil:
			ev.entry = Entry{Manifest: m, Stat: st, Hashed: true}
			return ev
		case s.ctx.Err() != nil:
			ev.err = s.ctx.Err()
			return ev
		case errors.Is(err, fs.ErrNotExist):
			ev.gone = true
			return ev
		case errors.Is(err, manifest.ErrChanged), errors.Is(err, errRacy):
			continue
		case errors.Is(err, manifest.ErrNotRegular):
			ev.skip = "not a regular file"
			return ev
		default:
			ev.skip, ev.skipErr = err.Error(), err
			return ev
		}
	}
	ev.skip = fmt.Sprintf("kept changing while it was hashed (%d attempts)", maxAttempts)
	return ev
}

// hashFile builds the manifest of the regular file rel and returns it with
// the Stat of the very file that was read. ErrChanged if the file changed
// (or was replaced) while it was read.
func (s *scanner) hashFile(rel string, progress func(int64)) (manifest.Manifest, Stat, error) {
	full := filepath.Join(s.root, filepath.FromSlash(rel))
	lst, err := os.Lstat(full)
	if err != nil {
		return manifest.Manifest{}, Stat{}, err
	}
	if !lst.Mode().IsRegular() {
		return manifest.Manifest{}, Stat{}, manifest.ErrNotRegular
	}
	st := statOf(lst)
	if age := time.Since(time.Unix(0, st.changed())); age >= 0 && age < racyWindow {
		t := time.NewTimer(racyWindow - age)
		defer t.Stop()
		select {
		case <-t.C:
			return manifest.Manifest{}, Stat{}, errRacy // look again
		case <-s.ctx.Done():
			return manifest.Manifest{}, Stat{}, s.ctx.Err()
		}
	}
	if err := manifest.CheckSize(st.Size, s.opt.PieceSize); err != nil {
		return manifest.Manifest{}, Stat{}, fmt.Errorf("hash %s: %w", rel, err) // skipped unread
	}
	if manifest.PieceCount(st.Size, s.opt.PieceSize) < largePieces {
		m, err := manifest.BuildFile(s.ctx, s.root, rel, s.opt.PieceSize)
		if err != nil {
			return manifest.Manifest{}, Stat{}, err
		}
		after, err := os.Lstat(full)
		if err != nil {
			return manifest.Manifest{}, Stat{}, err
		}
		if statOf(after) != st || m.Size != st.Size || m.ModTime != st.ModTime || m.Kind != manifest.KindFile {
			return manifest.Manifest{}, Stat{}, manifest.ErrChanged
		}
		return m, st, nil
	}

	f, err := os.Open(full)
	if err != nil {
		return manifest.Manifest{}, Stat{}, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return manifest.Manifest{}, Stat{}, err
	}
	if !os.SameFile(lst, before) { // replaced (perhaps by a symlink) since the lstat
		return manifest.Manifest{}, Stat{}, manifest.ErrChanged
	}
	st = statOf(before)
	m, err := manifest.Build(s.ctx, &progressReader{r: f, report: progress}, s.opt.PieceSize)
	if err != nil {
		return manifest.Manifest{}, Stat{}, fmt.Errorf("hash %s: %w", rel, err)
	}
	after, err := f.Stat()
	if err != nil {
		return manifest.Manifest{}, Stat{}, err
	}
	if statOf(after) != st || m.Size != st.Size {
		return manifest.Manifest{}, Stat{}, manifest.ErrChanged
	}
	m.Path = rel
	m.ModTime = st.ModTime
	m.Exec = isExec(before.Mode())
	return m, st, nil
}

// progressReader reports every progressStep bytes read.
type progressReader struct {
	r       io.Reader
	pending int64
	report  func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.pending += int64(n)
	if p.pending >= progressStep {
		p.report(p.pending)
		p.pending = 0
	}
	return n, err
}
