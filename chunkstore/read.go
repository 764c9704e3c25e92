package chunkstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/dartsync/dartsync/manifest"
)

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// readLoc reads l into buf and checks its hash, unless stamped and the
// file still has l's recorded size and modification time. stale reports
// that the location itself is bad (missing file, short file, different
// bytes), as opposed to a transient I/O error.
func readLoc(l refLoc, h manifest.ID, buf []byte, stamped bool) (data []byte, stale bool, err error) {
	if l.Length < 0 || l.Length > manifest.MaxPieceSize || l.Offset < 0 {
		return nil, true, fmt.Errorf("bad location length %d", l.Length)
	}
	f, err := os.Open(l.Path)
	if err != nil {
		return nil, errors.Is(err, fs.ErrNotExist), err
	}
	defer f.Close()
	if int64(cap(buf)) < l.Length {
		buf = make([]byte, l.Length)
	}
	buf = buf[:l.Length]
	n, err := f.ReadAt(buf, l.Offset)
	if n < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, true, errShort
		}
		return nil, false, err
	}
	if stamped {
		if fi, err := f.Stat(); err == nil && fi.Size() == l.size && fi.ModTime().UnixNano() == l.mtime {
			return buf, false, nil
		}
	}
	if manifest.Hash(buf) != h {
		return nil, true, fmt.Errorf("%w: hash mismatch at %s+%d", ErrBadPiece, l.Path, l.Offset)
	}
	return buf, false, nil
}
