package kvstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
)

// ErrNoRoom: the store's disk is too full for a write to go ahead safely
// (Store.Room). It wraps syscall.ENOSPC, so callers that handle a full
// disk handle it too.
var ErrNoRoom = fmt.Errorf("kvstore: the disk is full: %w", syscall.ENOSPC)

// ReserveName is the reserve file in a store's directory.
const ReserveName = "RESERVE"

// Reserve sizes, in memtables (Options.MemTableSize).
const (
	// reserveTables: the reserve file. What a store may still write after
	// its first ENOSPC: the failed write retried, a memtable flushed, a
	// new write-ahead log (110% of a memtable) and manifest records.
	reserveTables = 4
	// reserveMinFree: the reserve is made only on a disk with this many
	// reserves' worth free (and is remade once that much is free again): on
	// a tiny disk it would take the room it is meant to save.
	reserveMinFree = 4
)

// needSlack is added to a write-ahead log's size in reserve.need.
const needSlack = 64 << 10

// reserve is a store's disk reserve. Pebble treats a failed write of its
// log or manifest as fatal (it cannot know what reached the disk), so a
// full disk must never reach it. Two guards:
//
//   - the reserve file: Pebble's writes go through vfs.OnDiskFull, whose
//     callback (release) deletes the file on the first ENOSPC, and the
//     failed write is retried once, into the room it leaves;
//   - Room: while the file is missing (released, or never made on a small
//     disk), every commit first checks that the disk has need bytes free
//     (a new write-ahead log and some), and is refused with ErrNoRoom
//     otherwise; once the disk has room again, the file is made again.
//
// The peer turns ErrNoRoom like any ENOSPC into a paused write, retried.
type reserve struct {
	dir  string
	path string
	size int64 // the reserve file's size
	need int64 // free bytes a commit needs without the file

	held   atomic.Bool // the file is there, whole
	making atomic.Bool // a make is under way (another caller does not wait for it)
}

func newReserve(dir string, memTable uint64) *reserve {
	return &reserve{
		dir:  dir,
		path: filepath.Join(dir, ReserveName),
		size: int64(reserveTables * memTable),
		need: int64(memTable+memTable/10) + needSlack,
	}
}

// make makes the reserve file if it is not there whole and the disk has
// reserveMinFree reserves' worth free (on top of need). A failure leaves
// no file.
func (r *reserve) make() error { return r.makeWith(-1) }

// makeWith is make with the disk's free bytes already read (free < 0: not
// read yet).
func (r *reserve) makeWith(free int64) error {
	if r.held.Load() || !r.making.CompareAndSwap(false, true) {
		return nil
	}
	defer r.making.Store(false)
	if fi, err := os.Stat(r.path); err == nil && fi.Size() == r.size {
		r.held.Store(true)
		return nil
	}
	if free < 0 {
		free = freeBytes(r.dir)
	}
	if free < r.need+reserveMinFree*r.size {
		_ = os.Remove(r.path) // a partial one helps no one
		return nil
	}
	if err := writeZeros(r.path, r.size); err != nil {
		_ = os.Remove(r.path)
		if errors.Is(err, syscall.ENOSPC) {
			return nil
		}
		return fmt.Errorf("kvstore: reserve: %w", err)
	}
	r.held.Store(true)
	return nil
}

// release deletes the reserve file: Pebble's disk-full callback. Its
// writes wait while it runs.
func (r *reserve) release() {
	r.held.Store(false)
	_ = os.Remove(r.path)
}

// room is Store.Room.
func (r *reserve) room() error {
	if r.held.Load() {
		return nil
	}
	free := freeBytes(r.dir)
	if free >= r.need+reserveMinFree*r.size {
		if err := r.makeWith(free); err != nil {
			return err
		}
	}
	if free >= 0 && free < r.need {
		return fmt.Errorf("%w (%s: %d bytes free, a write needs %d)", ErrNoRoom, r.dir, free, r.need)
	}
	return nil
}

// writeZeros writes a file of size zero bytes at path, allocated (a
// sparse file would reserve nothing) and synced.
func writeZeros(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	buf := make([]byte, 256<<10)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return err
		}
		left -= n
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
