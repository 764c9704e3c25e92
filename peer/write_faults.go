package peer

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Causes of a write fault (writeCause).
const (
	causeDiskFull   = "disk full"
	causePermission = "permission denied"
	causeReadOnly   = "read-only file system"
	causeOtherMount = "another file system mounted inside the folder"
)

// maxWriteBackoff bounds the wait before a faulted path is tried again.
const maxWriteBackoff = 2 * time.Minute

// spaceFreedMin is how much more free space a disk-full fault must see
// before its path is tried at once (writeFaults.spaceFreed).
const spaceFreedMin = 64 << 10

// writeCause names the lasting cause of a failed write: the disk is full
// (ENOSPC, or EDQUOT: the user's quota), the folder or a file in it may
// not be written (EACCES, EPERM) or is on a read-only file system (EROFS),
// or the target is on another mount than the folder's state directory
// (EXDEV even after the copy into DIR/.dartsync/tmp: a disk mounted on a
// directory inside the folder; a file is only ever put in place by a
// rename). "" for anything else (a network failure, a file edited meanwhile).
func writeCause(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return causeDiskFull
	case errors.Is(err, syscall.EROFS):
		return causeReadOnly
	case errors.Is(err, fs.ErrPermission):
		return causePermission
	case errors.Is(err, syscall.EXDEV):
		return causeOtherMount
	}
	return ""
}

// writeFault is the last failed write of one path.
type writeFault struct {
	cause    string
	attempts int       // failed attempts in a row
	next     time.Time // not tried again before
	free     int64     // disk full: free bytes when it failed (-1: unknown)
}

// roundFault is the last failure of a pull round or a scan.
type roundFault struct {
	err  string
	free int64 // disk full: the free bytes when it failed (-1: not disk full)
}

// writeFaults are the wants whose write failed for a lasting cause
// (writeCause): the disk is full, or the path cannot be written. Such a
// want is not retried at every pull round: it waits a backoff that doubles
// with each failure (from Config.Retry up to maxWriteBackoff), except that
// disk-full faults are all retried at once when the folder's file system
// has more room (spaceFreed: the pull loop polls it). Each path is warned
// about once per cause (the log, and so the last errors of Status); the
// folder's Status state is "error" while any fault lasts, with the reason.
// A success, or the want going away, ends the path's fault.
// Safe for concurrent use; its mutex is never held across I/O or logging.
type writeFaults struct {
	log  *slog.Logger
	base time.Duration // the first backoff (Config.Retry)
	free func() int64  // free bytes of the fuller of the state's and folder's file systems; -1 unknown
	now  func() time.Time

	mu sync.Mutex
	m  map[string]*writeFault
	// rounds: per loop ("pull", "scan"), the error of its runs failing in
	// a row (an index write on a full disk); none when the last one did
	// not fail.
	rounds map[string]*roundFault
}

func newWriteFaults(log *slog.Logger, base time.Duration, free func() int64) *writeFaults {
	return &writeFaults{log: log, base: base, free: free, now: time.Now, m: map[string]*writeFault{}, rounds: map[string]*roundFault{}}
}

// retryAfter is the wait before a loop runs again after its nth failure
// in a row (n >= 1) with err: the backoff if err is a write with a lasting
// cause (writeCause), else Config.Retry (a tracker that went away: its
// return kicks the loops anyway).
func (w *writeFaults) retryAfter(err error, n int) time.Duration {
	if writeCause(err) == "" {
		return w.base
	}
	return w.backoff(n)
}

// backoff is the wait after the nth failure in a row (n >= 1).
func (w *writeFaults) backoff(n int) time.Duration {
	d := w.base
	for i := 1; i < n && d < maxWriteBackoff; i++ {
		d *= 2
	}
	return min(d, maxWriteBackoff)
}

// failed records that writing path failed with err while doing what. It
// reports false, recording nothing, when err has no lasting cause
// (writeCause): the caller handles it as before.
func (w *writeFaults) failed(path, what string, err error) bool {
	cause := writeCause(err)
	if cause == "" {
		return false
	}
	free := int64(-1)
	if cause == causeDiskFull && w.free != nil {
		free = w.free()
	}
	w.mu.Lock()
	f, ok := w.m[path]
	if !ok {
		f = &writeFault{}
		w.m[path] = f
	}
	first := f.cause != cause
	if first {
		f.cause, f.attempts = cause, 0
	}
	f.attempts++
	f.free = free
	wait := w.backoff(f.attempts)
	f.next = w.now().Add(wait)
	attempts := f.attempts
	w.mu.Unlock()
	if first {
		w.log.Warn("cannot write: "+cause+" (retrying with backoff; the old file, if any, is kept)",
			"path", path, "op", what, "err", err)
	} else {
		w.log.Debug("cannot write", "path", path, "op", what, "attempts", attempts, "retry_in", wait, "err", err)
	}
	return true
}

// succeeded ends path's fault, if any.
func (w *writeFaults) succeeded(path string) {
	w.mu.Lock()
	f, ok := w.m[path]
	delete(w.m, path)
	w.mu.Unlock()
	if ok {
		w.log.Info("written after an earlier error", "path", path, "cause", f.cause, "attempts", f.attempts)
	}
}

// due reports whether path may be tried now (no fault, or its backoff
// is over).
func (w *writeFaults) due(path string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := w.m[path]
	return !ok || !w.now().Before(f.next)
}

// retain forgets the faults of paths for which wanted is false (the want
// was applied elsewhere, replaced or dropped).
func (w *writeFaults) retain(wanted func(path string) bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for p := range w.m {
		if !wanted(p) {
			delete(w.m, p)
		}
	}
}

// wait returns how long until the first faulted path is due; false if
// there is no fault.
func (w *writeFaults) wait() (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.m) == 0 {
		return 0, false
	}
	now := w.now()
	var first time.Time
	for _, f := range w.m {
		if first.IsZero() || f.next.Before(first) {
			first = f.next
		}
	}
	return max(first.Sub(now), 0), true
}

// roundFailed records that a run of loop ("pull", "scan") failed with err
// (an index write, when the disk is full) and reports whether err differs
// from the last run's: the caller warns once, not at every retry.
func (w *writeFaults) roundFailed(loop string, err error) bool {
	free := int64(-1)
	if writeCause(err) == causeDiskFull && w.free != nil {
		free = w.free()
	}
	msg := err.Error()
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.rounds[loop]
	changed := !ok || r.err != msg
	w.rounds[loop] = &roundFault{err: msg, free: free}
	return changed
}

// roundOK records that a run of loop did not fail.
func (w *writeFaults) roundOK(loop string) {
	w.mu.Lock()
	delete(w.rounds, loop)
	w.mu.Unlock()
}

// spaceFreed reports whether the file system has at least spaceFreedMin
// more free bytes than when a write, a pull round or a scan failed for a
// full disk, and if so makes every disk-full fault due now: the pull loop
// polls it and runs a round and a scan at once.
func (w *writeFaults) spaceFreed() bool {
	w.mu.Lock()
	full := false
	for _, r := range w.rounds {
		full = full || r.free >= 0
	}
	for _, f := range w.m {
		full = full || f.cause == causeDiskFull
	}
	w.mu.Unlock()
	if !full || w.free == nil {
		return false
	}
	free := w.free()
	if free < 0 {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now, freed := w.now(), false
	for _, r := range w.rounds {
		if r.free >= 0 && free >= r.free+spaceFreedMin {
			r.free, freed = free, true
		}
	}
	for _, f := range w.m {
		if f.cause == causeDiskFull && f.free >= 0 && free >= f.free+spaceFreedMin && now.Before(f.next) {
			f.next, freed = now, true
		}
	}
	return freed
}

// attempts returns the failed attempts in a row of path (0: no fault).
func (w *writeFaults) attempts(path string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f, ok := w.m[path]; ok {
		return f.attempts
	}
	return 0
}

// reason describes the faults for Status ("" when there is none): the
// cause and the first path, and how many more paths fail.
func (w *writeFaults) reason() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.m) == 0 {
		return ""
	}
	paths := make([]string, 0, len(w.m))
	for p := range w.m {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	f := w.m[paths[0]]
	s := fmt.Sprintf("cannot write: %s: %s", f.cause, paths[0])
	if len(paths) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(paths)-1)
	}
	return s
}
