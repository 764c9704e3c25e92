package transfer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dartsync/dartsync/internal/transport"

	"github.com/dartsync/dartsync/delta"
	"github.com/dartsync/dartsync/manifest"
)

// ErrSignatureTooLarge is returned by FetchDelta when the signature of the
// basis would exceed MaxSignature; fetch the whole piece instead.
var ErrSignatureTooLarge = errors.New("transfer: delta signature too large")

// DeltaStats is what one FetchDelta moved.
type DeltaStats struct {
	SignatureBytes int // sent
	DeltaBytes     int // received
}

// FetchDelta fetches piece h (length bytes) from src as a delta against
// basis, the requester's old bytes at that place (see delta.BasisRange): it
// sends the basis's signature (delta.Sign with the default block size),
// receives the delta, rebuilds the piece (delta.Apply) and returns it after
// verifying its BLAKE3 hash. The returned slice is newly allocated. On any
// error the caller fetches the whole piece (with Fetch) instead: a source
// without the piece gives ErrNotFound, one that does not serve deltas
// ErrBadRequest, a delta that does not rebuild the piece ErrBadPiece. It
// waits for room under FetchOptions.MaxInFlight (deltaInFlight), which it
// shares with every Fetch of the Fetcher.
func (f *Fetcher) FetchDelta(ctx context.Context, src Source, h manifest.ID, length int, basis []byte) ([]byte, DeltaStats, error) {
	var st DeltaStats
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, st, ErrClosed
	}
	f.wg.Add(1)
	f.mu.Unlock()
	defer f.wg.Done()
	f.load.files.Add(1)
	defer f.load.files.Add(-1)
	if length <= 0 || length > MaxPieceLen {
		return nil, st, fmt.Errorf("transfer: delta of piece %s: length %d outside 1..%d", h.Short(), length, MaxPieceLen)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(f.ctx, cancel)
	defer stop()
	// Under the fetcher's in-flight bound like every piece: the basis, the
	// delta and the rebuilt piece are each about a piece.
	n := min(deltaInFlight(length), f.opt.MaxInFlight)
	if err := f.mem.Acquire(ctx, n); err != nil {
		if f.ctx.Err() != nil {
			return nil, st, ErrClosed
		}
		return nil, st, fmt.Errorf("transfer: delta of piece %s: %w", h.Short(), err)
	}
	defer f.mem.Release(n)

	sig, err := delta.Sign(basis, 0)
	if err != nil {
		return nil, st, fmt.Errorf("transfer: delta of piece %s: %w", h.Short(), err)
	}
	sigBytes, err := sig.MarshalBinary()
	if err != nil {
		return nil, st, fmt.Errorf("transfer: delta of piece %s: %w", h.Short(), err)
	}
	if len(sigBytes) > MaxSignature {
		return nil, st, fmt.Errorf("%w: %d bytes for a basis of %d", ErrSignatureTooLarge, len(sigBytes), len(basis))
	}
	st.SignatureBytes = len(sigBytes)
	conn, err := f.pool.get(ctx, src, 0, false)
	if err != nil {
		return nil, st, err
	}
	began := time.Now()
	f.load.requests.Add(1)
	d, err := requestDelta(ctx, conn, src.Folder, h, length, sigBytes, f.opt.RequestTimeout)
	f.load.requests.Add(-1)
	if err != nil {
		if f.ctx.Err() != nil {
			return nil, st, ErrClosed
		}
		if conn.Context().Err() != nil {
			f.pool.evictConn(src.ID, conn)
		}
		return nil, st, classifyRemoteClose(err)
	}
	st.DeltaBytes = len(d)
	piece, err := delta.Apply(basis, d, h, length)
	if err != nil {
		return nil, st, fmt.Errorf("%w: delta of piece %s from %s: %w", ErrBadPiece, h.Short(), src.ID.Short(), err)
	}
	f.observe(true, began, len(piece))
	return piece, st, nil
}

// deltaInFlight is what one FetchDelta of a piece of length bytes counts
// against FetchOptions.MaxInFlight: the basis it was handed, the delta
// received (at most the piece plus delta.MaxDeltaOverhead) and the piece
// rebuilt.
func deltaInFlight(length int) int64 {
	return 3*int64(length) + delta.MaxDeltaOverhead
}

// requestDelta sends one delta request on a new stream of conn and returns
// the delta's bytes.
func requestDelta(ctx context.Context, conn transport.Session, folder string, h manifest.ID, length int, sig []byte, timeout time.Duration) ([]byte, error) {
	str, deadline, stop, err := openRequestStream(ctx, conn, timeout)
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := writeDeltaRequest(str, folder, h, length, sig); err != nil {
		str.CancelRead(codeCancelled)
		return nil, err
	}
	_ = str.Close()
	n, err := readDataResponse(str, length+delta.MaxDeltaOverhead)
	if err != nil {
		str.CancelRead(codeCancelled)
		return nil, err
	}
	d := make([]byte, n)
	if err := readBody(str, d, deadline, "the delta"); err != nil {
		return nil, err
	}
	return d, nil
}
