package peer

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/peer/index"
)

// writeFailed handles a failed write of path (what names the step, as
// the log line does): a lasting cause (disk full, permission, read-only:
// writeCause) becomes a fault of the path, warned about once and retried
// with backoff (outcome failed, write_faults.go); any other error is
// logged and retried with the next round (outcome retry).
func (a *applier) writeFailed(path, what string, err error) outcome {
	if a.state.faults.failed(path, what, err) {
		return failed
	}
	a.log.Warn(what, "path", path, "err", err)
	return retry
}

// roomFor fails with an error wrapping ENOSPC when the file system of
// part cannot hold the rest of its version: the bytes are not fetched only
// to fill the disk (the old file stays, and other files still fit).
// Unknown free space passes.
func roomFor(part *chunkstore.Partial) error {
	m := part.Manifest()
	have := int64(0)
	if fi, err := os.Stat(part.Path()); err == nil {
		have = allocatedBytes(fi)
	}
	need := m.Size - have
	if need <= 0 {
		return nil
	}
	free := freeBytes(filepath.Dir(part.Path()))
	if free < 0 || need <= free {
		return nil
	}
	return fmt.Errorf("%w: %d more bytes needed for %s, %d free", syscall.ENOSPC, need, m.Path, free)
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
