package chunkstore

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
)

// Stored reports, for each of hs, whether a location of it is recorded
// (what Locate's ok says, unverified), looking them all up with one
// iterator in key order: for a manifest's pieces this costs a fraction of a
// Locate each.
func (s *Store) Stored(hs []manifest.ID) ([]bool, error) {
	out := make([]bool, len(hs))
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	order := make([]int, len(hs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(hs[a][:], hs[b][:]) })
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixPieces}, UpperBound: []byte{prefixPieces + 1}})
	if err != nil {
		return nil, fmt.Errorf("chunkstore: stored: %w", err)
	}
	defer it.Close()
	seek := make([]byte, 1+hashPrefixLen)
	seek[0] = prefixPieces
	for k, i := range order {
		if k > 0 && hs[order[k-1]] == hs[i] {
			out[i] = out[order[k-1]]
			continue
		}
		copy(seek[1:], hs[i][:hashPrefixLen])
		for ok := it.SeekGE(seek); ok && bytes.HasPrefix(it.Key(), seek); ok = it.Next() {
			h, ref, valid := parsePieceKey(it.Key())
			if !valid || h != hs[i] {
				continue
			}
			if _, found, err := kvstore.Get(s.db, refKey(ref)); err != nil {
				return nil, fmt.Errorf("chunkstore: stored: %w", err)
			} else if found {
				out[i] = true
				break
			}
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("chunkstore: stored: %w", err)
	}
	return out, nil
}
