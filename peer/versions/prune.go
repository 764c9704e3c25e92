package versions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// staleTemp is how old a temporary file in the versions directory must be
// before Prune removes it (one left by a crash).
const staleTemp = time.Hour

// Pruned says what Prune did.
type Pruned struct {
	Removed int   // versions removed
	Freed   int64 // their bytes
	Kept    int   // versions left
	Bytes   int64 // their bytes
	Cap     int64 // the size cap applied
}

// Cap returns the size cap of the kept versions: Options.MaxBytes, else
// Options.MaxPercent of the size of the folder's file system.
func (s *Store) Cap() (int64, error) {
	if s.opt.MaxBytes > 0 {
		return s.opt.MaxBytes, nil
	}
	total, err := fsSize(s.root)
	if err != nil {
		return 0, fmt.Errorf("versions: size of the file system of %s: %w", s.root, err)
	}
	return int64(float64(total) * s.opt.MaxPercent / 100), nil
}

// Prune removes the versions kept longer than Options.MaxAge before now,
// then the oldest ones until the rest fit in the size cap (Cap), then
// temporary files left by a crash and empty directories. It holds no lock:
// a version kept while it runs is counted or not, never damaged.
func (s *Store) Prune(now time.Time) (Pruned, error) {
	var all []Entry
	var temps []string
	err := s.walk(func(e Entry) { all = append(all, e) }, func(abs string, fi fs.FileInfo) {
		if isTemp(fi.Name()) && now.Sub(fi.ModTime()) > staleTemp {
			temps = append(temps, abs)
		}
	})
	if err != nil {
		return Pruned{}, err
	}
	if len(all) == 0 && len(temps) == 0 {
		return Pruned{}, nil // nothing kept (or no versions directory)
	}
	limit, err := s.Cap()
	if err != nil {
		return Pruned{}, err
	}
	slices.SortFunc(all, func(a, b Entry) int {
		switch {
		case a.before(b):
			return -1
		case b.before(a):
			return 1
		}
		return 0
	})
	res := Pruned{Cap: limit}
	for _, e := range all {
		res.Bytes += e.Size
	}
	cutoff := now.Add(-s.opt.MaxAge)
	var firstErr error
	for i, e := range all {
		if !e.Time.Before(cutoff) && res.Bytes <= limit {
			res.Kept += len(all) - i
			break
		}
		if err := os.Remove(e.File); err != nil && !errors.Is(err, fs.ErrNotExist) {
			if firstErr == nil {
				firstErr = fmt.Errorf("versions: prune: %w", err)
			}
			res.Kept++
			continue
		}
		res.Removed++
		res.Freed += e.Size
		res.Bytes -= e.Size
	}
	for _, t := range temps {
		os.Remove(t)
	}
	s.removeEmptyDirs()
	return res, firstErr
}

// removeEmptyDirs removes the empty directories below the versions
// directory (deepest first), never the versions directory itself.
func (s *Store) removeEmptyDirs() {
	var dirs []string
	_ = filepath.WalkDir(s.dir, func(abs string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && abs != s.dir {
			dirs = append(dirs, abs)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i]) // fails unless empty
	}
}
