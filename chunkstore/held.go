package chunkstore

import (
	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/manifest"
)

// Held returns which pieces of the version with file ID id (of pieces
// pieces) the partial download of that version holds durably: a bitfield,
// piece i being bit i%8 of byte i/8, least significant bit first, the bits
// past pieces zero. These are the pieces ReadPiece can find in the partial
// (their locations are recorded with them). ok is false when no partial of
// id is recorded, its record does not have pieces pieces, or it holds no
// piece yet. The piece server answers swarming downloaders with it
// (peer/transfer, HaveRequest).
func (s *Store) Held(id manifest.ID, pieces int) (bits []byte, ok bool) {
	if pieces <= 0 || pieces > manifest.MaxPieces || s.checkOpen() != nil {
		return nil, false
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPartials).Get(id[:])
		if v == nil {
			return nil
		}
		_, durable, _, err := decodePartialRec(v, pieces)
		if err != nil {
			return nil
		}
		if r := pieces % 8; r != 0 {
			durable[len(durable)-1] &= byte(1)<<r - 1
		}
		for _, b := range durable {
			if b != 0 {
				bits, ok = durable, true
				break
			}
		}
		return nil
	})
	return bits, ok
}
