package scan

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"slices"

	"github.com/dartsync/dartsync/manifest"
)

// Stat is the stat data that proves a file unchanged since it was hashed
// (or, in the peer's index, since it was synced): two Stats are equal (==)
// only if the file is unchanged. It is the one stat type of the peer: the
// index stores it (peer/index) and the peer compares it with StatOf of an
// lstat.
type Stat struct {
	Size    int64
	ModTime int64 // ns since the Unix epoch
	Inode   uint64
	// Ctime is the inode change time (ns since the Unix epoch; 0 where the
	// platform has none). Every write, chmod, link or rename sets it to the
	// current time, and no system call can set it back: a same-size rewrite
	// that restores the mtime (cp -p, rsync -t --inplace, touch -r) still
	// changes it; a mode change shows in it too. In the index, 0 also means
	// unknown (a record written before the index kept it): a file on disk
	// always has a non-zero ctime where the platform has one, so an unknown
	// ctime never proves a file unchanged there: it is hashed once.
	Ctime int64
}

// StatOf returns the Stat of an lstat result (fs.FileInfo from os.Lstat or
// fs.DirEntry.Info).
func StatOf(fi fs.FileInfo) Stat { return statOf(fi) }

// changed returns the later of the modification and inode change times: when
// the file was last written or had its metadata set.
func (a Stat) changed() int64 { return max(a.ModTime, a.Ctime) }

// Prev returns the previous state of the folder-relative path: its last
// manifest and the Stat taken when it was hashed. ok is false if there is
// none. It is called from the goroutine that called Scan.
type Prev func(path string) (m manifest.Manifest, st Stat, ok bool)

// Progress is the scanner's progress: files and bytes hashed so far, and how
// many files and bytes this scan has to hash (known once the walk is done;
// Walked counts entries walked until then).
type Progress struct {
	Walked     int64
	Files      int64
	Bytes      int64
	TotalFiles int64
	TotalBytes int64
}

// Options configures Scan.
type Options struct {
	// PieceSize of the manifests built; 0 means manifest.DefaultPieceSize.
	PieceSize int64
	// Workers bounds how many files are hashed at once; 0 means GOMAXPROCS.
	Workers int
	// Progress, if set, is called from the goroutine that called Scan: once
	// when the walk is done, after each hashed file, and while a large file
	// is read. It must not block for long.
	Progress func(Progress)
	// Prev, if set, gives the previous state of a path (see Prev).
	Prev Prev
	// Log receives skipped paths at debug level; nil discards.
	Log *slog.Logger
	// Ignore, if set, names the paths kept out of sync (peer/ignore's
	// Matcher.Match): such a path is neither listed nor skipped, and an
	// ignored directory is not entered.
	Ignore func(path string, isDir bool) bool
}

// Entry is one regular file or directory of the folder. For a file that was
// not hashed, Manifest is the previous manifest with ModTime and Exec taken
// from the disk. For a hashed file Base is zero (the caller knows what it
// replaced).
type Entry struct {
	Manifest manifest.Manifest
	Stat     Stat
	Hashed   bool
}

// Skip is a path that exists but was not scanned, and why. Err is the
// error that made it unreadable (permission denied, an I/O error); nil
// for a path skipped by choice (a symlink, a refused name) or one that
// kept changing.
type Skip struct {
	Path   string
	Reason string
	Err    error
}

// Result is what Scan found.
type Result struct {
	Entries []Entry // sorted by path
	Skipped []Skip  // sorted by path
}

// Scan walks the folder at root recursively and returns its entries (see
// the package documentation). It returns an error only if root cannot be
// walked or ctx is done; problems with single paths are reported in Skipped.
func Scan(ctx context.Context, root string, opt Options) (Result, error) {
	if opt.PieceSize == 0 {
		opt.PieceSize = manifest.DefaultPieceSize
	}
	if err := manifest.CheckPieceSize(opt.PieceSize); err != nil {
		return Result{}, fmt.Errorf("scan: %w", err)
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return Result{}, fmt.Errorf("scan: %w", err)
	}
	if !fi.IsDir() {
		return Result{}, fmt.Errorf("scan: %s is not a directory", root)
	}
	s := &scanner{ctx: ctx, root: root, opt: opt}
	if err := s.walk(); err != nil {
		return Result{}, err
	}
	if err := s.hashAll(); err != nil {
		return Result{}, err
	}
	res := Result{Skipped: s.skipped}
	res.Entries = slices.DeleteFunc(s.entries, func(e Entry) bool { return e.Manifest.Path == "" })
	slices.SortFunc(res.Entries, func(a, b Entry) int { return cmp.Compare(a.Manifest.Path, b.Manifest.Path) })
	slices.SortFunc(res.Skipped, func(a, b Skip) int { return cmp.Compare(a.Path, b.Path) })
	return res, nil
}

// scanner is the state of one Scan.
type scanner struct {
	ctx  context.Context
	root string
	opt  Options

	entries  []Entry
	skipped  []Skip
	todo     []int // indexes into entries of files to hash
	progress Progress
}

// skip skips path by choice (a symlink, a refused name) or because it
// kept changing.
func (s *scanner) skip(path, reason string) { s.skipErr(path, reason, nil) }

// skipErr skips path, unreadable because of err.
func (s *scanner) skipErr(path, reason string, err error) {
	s.opt.Log.Debug("scan: skipped", "path", path, "reason", reason)
	s.skipped = append(s.skipped, Skip{Path: path, Reason: reason, Err: err})
}

func (s *scanner) report() {
	if s.opt.Progress != nil {
		s.opt.Progress(s.progress)
	}
}
