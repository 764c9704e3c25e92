package manifest

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// BuildBytes is Build for data already in memory: the pieces are hashed in
// place on GOMAXPROCS workers, with no copy and no piece buffers. The result
// equals Build(ctx, bytes.NewReader(data), pieceSize).
func BuildBytes(ctx context.Context, data []byte, pieceSize int64) (Manifest, error) {
	if err := CheckPieceSize(pieceSize); err != nil {
		return Manifest{}, err
	}
	if err := ctx.Err(); err != nil {
		return Manifest{}, err
	}
	size := int64(len(data))
	if err := CheckSize(size, pieceSize); err != nil {
		return Manifest{}, err
	}
	count := PieceCount(size, pieceSize)
	pieces := make([]Piece, count)
	piece := func(i int) []byte {
		off := int64(i) * pieceSize
		return data[off:min(off+pieceSize, size)]
	}
	workers := min(runtime.GOMAXPROCS(0), count)
	if workers <= 1 {
		for i := range pieces {
			if err := ctx.Err(); err != nil {
				return Manifest{}, err
			}
			pieces[i] = hashPiece(piece(i))
		}
		return newFileManifest(size, pieceSize, pieces), nil
	}
	var next atomic.Int64 // next piece index to hash
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= count {
					return
				}
				pieces[i] = hashPiece(piece(i))
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Manifest{}, err
	}
	return newFileManifest(size, pieceSize, pieces), nil
}
