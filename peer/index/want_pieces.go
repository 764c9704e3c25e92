package index

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble"
	"github.com/dartsync/dartsync/internal/kvstore"
)

// A want's piece list is stored in chunks of piecesChunk pieces (36 KiB),
// each its own record: pathKey(prefixPieces, path) ‖ 0 0 ‖ chunk u16 BE.
// Two NUL bytes never occur in an encoded path (components are not empty),
// so the chunks of "a" never mix with those of "a/b". Small values keep
// Pebble's flushes and compactions small too: a 2^16-piece list written as
// one 2.25 MiB value was buffered whole, several times over, by the block
// writer, its compression and the compaction iterator (about 20 MiB of heap
// per store after 16 such wants).
const piecesChunk = 1024

// pieceChunks is how many chunk records a list of n pieces has.
func pieceChunks(n int) int { return (n + piecesChunk - 1) / piecesChunk }

// pieceChunkKey is the key of chunk i of path's piece list.
func pieceChunkKey(path string, i int) []byte {
	k := pathKey(prefixPieces, path)
	k = append(k, 0, 0)
	return binary.BigEndian.AppendUint16(k, uint16(i))
}

// setPieces writes the encoded piece list (36 bytes a piece) of path in
// chunks, and deletes the chunks an older list of oldN pieces had beyond
// the new one's.
func setPieces(b *pebble.Batch, path string, pieces []byte, oldN int) error {
	n := len(pieces) / 36
	for i := 0; i < pieceChunks(n); i++ {
		lo := i * piecesChunk * 36
		hi := min(len(pieces), lo+piecesChunk*36)
		if err := b.Set(pieceChunkKey(path, i), pieces[lo:hi], nil); err != nil {
			return fmt.Errorf("pieces of %q: %w", path, err)
		}
	}
	return deletePieces(b, path, pieceChunks(n), pieceChunks(oldN))
}

// deletePieces deletes chunks [from, to) of path's piece list.
func deletePieces(b *pebble.Batch, path string, from, to int) error {
	for i := from; i < to; i++ {
		if err := b.Delete(pieceChunkKey(path, i), nil); err != nil {
			return fmt.Errorf("pieces of %q: %w", path, err)
		}
	}
	return nil
}

// readPieces reads the n-piece list of path, chunk by chunk.
func readPieces(r pebble.Reader, path string, n int) ([]byte, error) {
	out := make([]byte, 0, 36*n)
	for i := 0; i < pieceChunks(n); i++ {
		v, ok, err := kvstore.Get(r, pieceChunkKey(path, i))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: want %q: piece list chunk %d missing", ErrCorrupt, path, i)
		}
		out = append(out, v...)
	}
	return out, nil
}
