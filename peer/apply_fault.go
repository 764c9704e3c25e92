package peer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/peer/index"
)

// writeFailed handles a failed write of path (what names the step, as
// the log line does): a lasting cause (disk full, permission, read-only:
// writeCause) becomes a fault of the path, warned about once and retried
// with backoff (outcome failed, write_faults.go); any other error is
// logged and retried with the next round (outcome retry), at debug level
// if it is the round's cancellation (a shutdown, a pull started again).
func (a *applier) writeFailed(path, what string, err error) outcome {
	if a.state.faults.failed(path, what, err) {
		return failed
	}
	if errors.Is(err, context.Canceled) {
		a.log.Debug(what, "path", path, "err", err)
		return retry
	}
	a.log.Warn(what, "path", path, "err", err)
	return retry
}

// editedOutcome is the outcome for a target at abs that differs from what
// was synced at rel (applier.edited): edited (the scan reports the edit,
// and the tracker decides), unless the file cannot be read. Then the scan
// skips it and can never report it, and rescanning at every round would be
// a loop: it is a write fault (permission denied), retried with backoff,
// until it is readable again.
func (a *applier) editedOutcome(rel, abs string) outcome {
	if fi, err := os.Lstat(abs); err != nil || !fi.Mode().IsRegular() {
		return edited
	}
	f, err := os.Open(abs)
	if err == nil {
		f.Close()
		return edited
	}
	if a.state.faults.failed(rel, "changed here but cannot be read: not replaced", err) {
		return failed
	}
	return edited
}

// roomBook holds the partial downloads that roomFor let start and that
// have not ended yet: the room they still need is counted against the
// free space, so that downloads running together never overcommit the
// disk (two halves that fill it, neither able to finish). Its zero value
// is ready; its mutex is never held across I/O.
type roomBook struct {
	mu   sync.Mutex
	open map[*chunkstore.Partial]struct{}
}

// remaining is how many more bytes part needs on disk.
func remaining(part *chunkstore.Partial) int64 {
	have := int64(0)
	if fi, err := os.Stat(part.Path()); err == nil {
		have = allocatedBytes(fi)
	}
	return max(part.Manifest().Size-have, 0)
}

// roomFor books room for the rest of part's version, or fails with an
// error wrapping ENOSPC when its file system cannot hold it besides what
// the downloads under way still need: the bytes are not fetched only to
// fill the disk (the old file stays, and other files still fit). Unknown
// free space passes. Call release when the download ends.
func (b *roomBook) roomFor(part *chunkstore.Partial) (release func(), err error) {
	b.mu.Lock()
	if b.open == nil {
		b.open = map[*chunkstore.Partial]struct{}{}
	}
	others := make([]*chunkstore.Partial, 0, len(b.open))
	for o := range b.open {
		others = append(others, o)
	}
	b.open[part] = struct{}{} // before the check: two at once never both pass
	b.mu.Unlock()
	release = func() {
		b.mu.Lock()
		delete(b.open, part)
		b.mu.Unlock()
	}
	need := remaining(part)
	if need == 0 {
		return release, nil
	}
	free := freeBytes(filepath.Dir(part.Path()))
	if free < 0 {
		return release, nil
	}
	upper := int64(0) // what the others need at most, without a stat
	for _, o := range others {
		upper += o.Manifest().Size
	}
	if need <= free-upper {
		return release, nil
	}
	booked := int64(0)
	for _, o := range others {
		booked += remaining(o)
	}
	if need <= free-booked {
		return release, nil
	}
	release()
	return nil, fmt.Errorf("%w: %d bytes needed for %s, %d free (%d of them for downloads under way)",
		syscall.ENOSPC, need, part.Manifest().Path, free, min(booked, free))
}

// due returns the wants of ws whose paths may be tried now; the others
// wait their write fault's backoff (noted failed).
func (r *round) due(ws []index.Want) []index.Want {
	out := ws[:0:0]
	for _, w := range ws {
		if r.p.state.faults.due(w.Manifest.Path) {
			out = append(out, w)
			continue
		}
		r.note(w, failed)
	}
	return out
}
