package chunkstore

import (
	"sync"

	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
)

// maxRecentCommits is how many committed partials Held remembers: the
// downloads that ended in the last moments, whose downloaders other
// downloaders of the same version still ask (a download that ends is
// announced to the tracker as owned soon after, which makes it a source
// of the whole version for later fetches).
const maxRecentCommits = 256

// recentCommits is the file IDs (and piece counts) of the last
// maxRecentCommits partials committed by this store, in memory only.
type recentCommits struct {
	mu    sync.Mutex
	ids   map[manifest.ID]int
	order []manifest.ID
}

func (r *recentCommits) add(id manifest.ID, pieces int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = make(map[manifest.ID]int)
	}
	if _, ok := r.ids[id]; !ok {
		r.order = append(r.order, id)
	}
	r.ids[id] = pieces
	if len(r.order) > maxRecentCommits {
		delete(r.ids, r.order[0])
		r.order = r.order[1:]
	}
}

func (r *recentCommits) has(id manifest.ID, pieces int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.ids[id]
	return ok && n == pieces
}

// Held returns which pieces of the version with file ID id (of pieces
// pieces) this store holds: a bitfield, piece i being bit i%8 of byte
// i/8, least significant bit first, the bits past pieces zero. For a
// partial download of the version these are the pieces it holds durably,
// which ReadPiece can find (their locations are recorded with them); for
// a partial of the version committed lately (recentCommits), every piece.
// ok is false when neither is known (or the piece count differs), or the
// partial holds no piece yet. Like a location it is a hint: the file may
// have changed since. The piece server answers swarming downloaders with
// it (peer/transfer, HaveRequest).
func (s *Store) Held(id manifest.ID, pieces int) (bits []byte, ok bool) {
	if pieces <= 0 || pieces > manifest.MaxPieces || s.checkOpen() != nil {
		return nil, false
	}
	if s.committed.has(id, pieces) {
		bits = make([]byte, (pieces+7)/8)
		for i := range bits {
			bits[i] = 0xff
		}
		if r := pieces % 8; r != 0 {
			bits[len(bits)-1] = byte(1)<<r - 1
		}
		return bits, true
	}
	v, found, err := kvstore.Get(s.db, partialKey(id))
	if err != nil || !found {
		return nil, false
	}
	_, durable, _, err := decodePartialRec(v, pieces)
	if err != nil {
		return nil, false
	}
	if r := pieces % 8; r != 0 {
		durable[len(durable)-1] &= byte(1)<<r - 1
	}
	for _, b := range durable {
		if b != 0 {
			return durable, true
		}
	}
	return nil, false
}
