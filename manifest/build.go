package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// Build reads r to its end in one streaming pass and returns the manifest of
// its bytes: Size, PieceSize, Pieces (BLAKE3-256 and WeakSum of every piece)
// and ID (FileID). Path, ModTime, Exec and Base are left for the caller;
// Kind is KindFile.
//
// Memory is bounded whatever the length of r: pieces are read into a pool of
// at most 2·GOMAXPROCS buffers of pieceSize bytes, hashed in parallel on
// GOMAXPROCS workers, and their results put in order. pieceSize must be in
// [MinPieceSize, MaxPieceSize]; a stream of more than MaxPieces pieces or
// MaxFileSize bytes is refused with ErrTooLarge. Build stops early with ctx's error when ctx is
// done.
func Build(ctx context.Context, r io.Reader, pieceSize int64) (Manifest, error) {
	return build(ctx, r, pieceSize, -1, MaxPieces)
}

// CheckPieceSize reports whether n may be used as a piece size.
func CheckPieceSize(n int64) error {
	if n < MinPieceSize || n > MaxPieceSize {
		return fmt.Errorf("%w: piece size %d outside [%d, %d]", ErrPieceSize, n, MinPieceSize, MaxPieceSize)
	}
	return nil
}

// build is Build with a hint of the stream's length (-1 if unknown), used to
// size the first buffer so a small file does not cost a whole piece buffer,
// and the piece limit (MaxPieces but in tests).
func build(ctx context.Context, r io.Reader, pieceSize, sizeHint int64, maxPieces int) (Manifest, error) {
	if err := CheckPieceSize(pieceSize); err != nil {
		return Manifest{}, err
	}
	if err := ctx.Err(); err != nil {
		return Manifest{}, err
	}
	firstLen := pieceSize
	if sizeHint >= 0 && sizeHint < pieceSize {
		firstLen = sizeHint + 1 // one more byte tells that the stream grew
	}
	first := make([]byte, firstLen)
	n, done, err := readPiece(r, first)
	if err == nil && !done && firstLen < pieceSize {
		// Longer than the hint said: continue in a whole piece buffer.
		grown := make([]byte, pieceSize)
		copy(grown, first[:n])
		var m int
		m, done, err = readPiece(r, grown[n:])
		first, n = grown, n+m
	}
	if err != nil {
		return Manifest{}, err
	}
	if done {
		// At most one piece: no workers needed.
		var pieces []Piece
		if n > 0 {
			pieces = []Piece{hashPiece(first[:n])}
		}
		return newFileManifest(int64(n), pieceSize, pieces), nil
	}
	// A stream longer than MaxFileSize has more pieces than one of
	// MaxFileSize bytes, or as many and a longer last one.
	m, err := buildParallel(ctx, r, pieceSize, first, min(maxPieces, PieceCount(MaxFileSize, pieceSize)))
	if err == nil && m.Size > MaxFileSize {
		return Manifest{}, CheckSize(m.Size, pieceSize)
	}
	return m, err
}

// readPiece fills buf from r. done reports that r reached its end (n may
// still be > 0); a read error other than EOF is returned wrapped.
func readPiece(r io.Reader, buf []byte) (n int, done bool, err error) {
	n, err = io.ReadFull(r, buf)
	switch {
	case err == nil:
		return n, false, nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return n, true, nil
	default:
		return n, true, fmt.Errorf("manifest: read: %w", err)
	}
}

func hashPiece(p []byte) Piece { return Piece{Hash: Hash(p), Weak: WeakSum(p)} }

func newFileManifest(size, pieceSize int64, pieces []Piece) Manifest {
	return Manifest{
		Kind:      KindFile,
		Size:      size,
		PieceSize: pieceSize,
		Pieces:    pieces,
		ID:        FileID(size, pieceSize, pieces),
	}
}

// pieceJob is one piece to hash; the worker writes the result to slot.
type pieceJob struct {
	buf  []byte
	slot *Piece
}

// slotChunk is how many result slots are allocated at a time, so workers can
// write results in place while the reader keeps going.
const slotChunk = 4096

// buildParallel hashes first (a full piece) and the rest of r on a pool of
// workers. The calling goroutine reads; the workers hash and recycle buffers.
func buildParallel(ctx context.Context, r io.Reader, pieceSize int64, first []byte, maxPieces int) (Manifest, error) {
	workers := runtime.GOMAXPROCS(0)
	maxBufs := 2 * workers
	jobs := make(chan pieceJob, maxBufs)
	free := make(chan []byte, maxBufs)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				*j.slot = hashPiece(j.buf)
				free <- j.buf[:cap(j.buf)]
			}
		})
	}
	allocated := 1
	var chunks [][]Piece
	count := 0
	size := int64(0)
	submit := func(buf []byte) {
		if count%slotChunk == 0 {
			chunks = append(chunks, make([]Piece, slotChunk))
		}
		jobs <- pieceJob{buf: buf, slot: &chunks[count/slotChunk][count%slotChunk]}
		count++
		size += int64(len(buf))
	}
	// getBuf returns a free buffer, allocating while under the bound.
	getBuf := func() ([]byte, error) {
		select {
		case b := <-free:
			return b, nil
		default:
		}
		if allocated < maxBufs {
			allocated++
			return make([]byte, pieceSize), nil
		}
		select {
		case b := <-free:
			return b, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	err := func() error {
		submit(first)
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			buf, err := getBuf()
			if err != nil {
				return err
			}
			n, done, err := readPiece(r, buf)
			if err != nil {
				return err
			}
			if n > 0 {
				if count >= maxPieces {
					return fmt.Errorf("%w: more than %d pieces of %d bytes", ErrTooLarge, maxPieces, pieceSize)
				}
				submit(buf[:n])
			}
			if done {
				return nil
			}
		}
	}()
	close(jobs)
	wg.Wait()
	if err != nil {
		return Manifest{}, err
	}
	pieces := make([]Piece, 0, count)
	for i, c := range chunks {
		pieces = append(pieces, c[:min(slotChunk, count-i*slotChunk)]...)
	}
	return newFileManifest(size, pieceSize, pieces), nil
}
