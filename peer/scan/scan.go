package scan

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"

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
// none. It is called from one goroutine (the walk's), for files only, in
// walk order: an implementation may read the caller's index forward, page
// by page, instead of one lookup per path.
type Prev func(path string) (m manifest.Manifest, st Stat, ok bool)

// Progress is the scanner's progress: entries walked, files and bytes
// hashed so far, and how many files and bytes the walk has found to hash
// so far (the totals once the scan is done).
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
	// Progress, if set, is called from the goroutine that called Scan or
	// Stream: after each hashed file, while a large file is read, and once
	// at the end. It must not block for long.
	Progress func(Progress)
	// Prev, if set, gives the previous state of a path (see Prev).
	Prev Prev
	// Log receives skipped paths at debug level; nil discards.
	Log *slog.Logger
	// Ignore, if set, names the paths kept out of sync (peer/ignore's
	// Matcher.Match): such a path is neither listed nor skipped, and an
	// ignored directory is not entered.
	Ignore func(path string, isDir bool) bool
	// StatWorkers bounds how many lstats of the walk run at once (the
	// names of one directory, on that many goroutines); 0 means
	// GOMAXPROCS, at most 4; 1: the walk's own goroutine only.
	StatWorkers int
	// Batch bounds the entries plus skipped paths of one Batch given to
	// Stream's callback; 0 means DefaultBatch.
	Batch int
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
	Entries []Entry // in walk order
	Skipped []Skip  // in walk order
}

// Scan walks the folder at root recursively and returns all its entries
// (see the package documentation): Stream, collected. It returns an error
// only if root cannot be walked or ctx is done; problems with single paths
// are reported in Skipped. A caller that must not hold the whole folder in
// memory uses Stream.
func Scan(ctx context.Context, root string, opt Options) (Result, error) {
	var res Result
	err := Stream(ctx, root, opt, func(b Batch) error {
		res.Entries = append(res.Entries, b.Entries...)
		res.Skipped = append(res.Skipped, b.Skipped...)
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// check fills in opt's defaults and checks root.
func (opt *Options) check(root string) error {
	if opt.PieceSize == 0 {
		opt.PieceSize = manifest.DefaultPieceSize
	}
	if err := manifest.CheckPieceSize(opt.PieceSize); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.StatWorkers <= 0 {
		opt.StatWorkers = min(runtime.GOMAXPROCS(0), 4)
	}
	if opt.Batch <= 0 {
		opt.Batch = DefaultBatch
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("scan: %s is not a directory", root)
	}
	return nil
}
