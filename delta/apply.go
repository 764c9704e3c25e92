package delta

import (
	"fmt"

	"github.com/dartsync/dartsync/manifest"
)

// Apply rebuilds a piece of length bytes from the basis old and an encoded
// delta, and checks that it hashes to want. Every token is validated before
// use (see ParseDelta); a delta whose header does not state length fails
// with ErrBadDelta, one made for a basis of another length with ErrBasis,
// and a rebuilt piece with another hash with ErrMismatch. On any error the
// caller fetches the whole piece instead.
func Apply(old, delta []byte, want manifest.ID, length int) ([]byte, error) {
	if length < 0 || length > MaxPieceLen {
		return nil, fmt.Errorf("%w: piece length %d", ErrBadRequest, length)
	}
	r, err := newTokenReader(delta)
	if err != nil {
		return nil, err
	}
	if r.hdr.length != length {
		return nil, fmt.Errorf("%w: delta rebuilds %d bytes, want %d", ErrBadDelta, r.hdr.length, length)
	}
	if r.hdr.basisLen != len(old) {
		return nil, fmt.Errorf("%w: delta is for a basis of %d bytes, have %d", ErrBasis, r.hdr.basisLen, len(old))
	}
	out := make([]byte, 0, length)
	bs := r.hdr.blockSize
	for {
		op, ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if len(op.Literal) > 0 {
			out = append(out, op.Literal...)
			continue
		}
		out = append(out, old[op.Block*bs:min((op.Block+op.Blocks)*bs, len(old))]...)
	}
	if got := manifest.Hash(out); got != want {
		return nil, fmt.Errorf("%w: got %s, want %s", ErrMismatch, got.Short(), want.Short())
	}
	return out, nil
}
