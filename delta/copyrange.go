package delta

import (
	"fmt"
	"io"
	"os"

	"github.com/dartsync/dartsync/manifest"
)

// CopyRange copies n bytes of src at srcOff to dst at dstOff, without
// changing either file's offset. On Linux it asks the kernel to copy
// (copy_file_range, which can share extents on filesystems that support it)
// and falls back to a read/write copy where the kernel refuses; elsewhere it
// always copies through user space. A source shorter than srcOff+n is an
// error wrapping io.ErrUnexpectedEOF. If src and dst are the same file the
// ranges must not overlap.
func CopyRange(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error {
	if n < 0 || dstOff < 0 || srcOff < 0 {
		return fmt.Errorf("%w: copy range of %d bytes from %d to %d", ErrBadRequest, n, srcOff, dstOff)
	}
	done, err := copyRangeKernel(dst, dstOff, src, srcOff, n)
	if err != nil {
		return fmt.Errorf("delta: copy %d bytes from %s at %d to %s at %d: %w", n, src.Name(), srcOff, dst.Name(), dstOff, err)
	}
	if done == n {
		return nil
	}
	if err := copyRangeUser(dst, dstOff+done, src, srcOff+done, n-done); err != nil {
		return fmt.Errorf("delta: copy %d bytes from %s at %d to %s at %d: %w", n-done, src.Name(), srcOff+done, dst.Name(), dstOff+done, err)
	}
	return nil
}

// copyRangeUser is the portable copy through a user-space buffer.
func copyRangeUser(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error {
	w := io.NewOffsetWriter(dst, dstOff)
	got, err := io.CopyBuffer(w, io.NewSectionReader(src, srcOff, n), make([]byte, min(n, 1<<20)+1))
	if err != nil {
		return err
	}
	if got != n {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// CopyMatches copies every match Find reported from src (the basis it
// scanned) into dst at the offset of its piece in m, merging pieces that are
// consecutive in both files into one CopyRange, and returns the bytes
// copied. The caller verifies the copied pieces if src may have changed
// since Find read it.
func CopyMatches(dst *os.File, m *manifest.Manifest, src *os.File, matches []Match) (int64, error) {
	var total, dstOff, srcOff, n int64
	flush := func() error {
		if n == 0 {
			return nil
		}
		if err := CopyRange(dst, dstOff, src, srcOff, n); err != nil {
			return err
		}
		total += n
		n = 0
		return nil
	}
	for _, mt := range matches {
		if mt.Piece < 0 || mt.Piece >= len(m.Pieces) {
			return total, fmt.Errorf("%w: match of piece %d of %d", ErrBadRequest, mt.Piece, len(m.Pieces))
		}
		off, length := m.PieceOffset(mt.Piece), m.PieceLen(mt.Piece)
		if n > 0 && dstOff+n == off && srcOff+n == mt.Offset {
			n += length
			continue
		}
		if err := flush(); err != nil {
			return total, err
		}
		dstOff, srcOff, n = off, mt.Offset, length
	}
	return total, flush()
}
