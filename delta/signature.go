package delta

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"hash/crc32"
)

// Signature describes a basis block by block: the weak checksum and the
// first StrongLen bytes of the strong sum of every block (see strongSum). The receiver makes
// it from its old bytes (Sign) and sends it (MarshalBinary); the source reads
// it (UnmarshalBinary) and computes a delta against it (Diff).
type Signature struct {
	BlockSize int      // block length; the last block may be shorter
	BasisLen  int      // length of the signed basis
	StrongLen int      // bytes of the strong sum kept per block
	Weak      []uint32 // weak checksum per block
	Strong    []byte   // StrongLen bytes per block, block after block
}

// BlockSizeFor is the block size Sign uses for a basis of n bytes when the
// caller passes 0: the power of two nearest √(4n), clamped to [512, 16 KiB].
// Per edit, a delta costs about one block of unchanged bytes sent as literal
// beside the edit, and the signature costs 7 bytes per block, so the total is
// least near √(7n/edits); for a 1 MiB piece with one to four 4 KiB edits the
// measured best is 1–2 KiB (see BenchmarkPieceDelta), and 2 KiB is within a
// few percent of the best in both cases.
func BlockSizeFor(n int) int {
	target := isqrt(4 * n)
	b := 512
	for b < 16<<10 && 2*b*b < target*target {
		b <<= 1
	}
	return b
}

func isqrt(n int) int {
	if n <= 0 {
		return 0
	}
	x := 1 << ((bits.Len(uint(n)) + 1) / 2)
	for {
		y := (x + n/x) / 2
		if y >= x {
			return x
		}
		x = y
	}
}

// strongLenFor picks the strong sum length as rsync does: enough bits that a
// false block match across the whole piece is unlikely, at least three
// bytes (within this package's limits the formula never asks for more). A
// false match only costs a refetch of the piece, because Apply verifies the
// piece's BLAKE3 hash.
func strongLenFor(basisLen, blockSize int) int {
	b := 10 + 2*bits.Len(uint(basisLen)) - bits.Len(uint(blockSize)) + 1 - 32
	n := (b + 7) / 8
	return min(max(n, 3), MaxStrongLen)
}

// strongSum is the strong sum of a block: its CRC-32C, little-endian. It
// needs to tell blocks with equal weak checksums apart, not to resist an
// adversary (the rebuilt piece is checked with BLAKE3), and CRC-32C runs in
// hardware on amd64 and arm64, several times faster than BLAKE3 on blocks
// of a few KiB.
func strongSum(p []byte) [4]byte {
	c := crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli))
	return [4]byte{byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24)}
}

// numBlocks is how many blocks a basis of n bytes has.
func numBlocks(n, blockSize int) int { return (n + blockSize - 1) / blockSize }

// Sign computes the signature of old with the given block size (0 chooses
// BlockSizeFor(len(old))). It fails with ErrTooLarge for a basis longer than
// MaxBasisLen and ErrBadRequest for a block size out of
// [MinBlockSize, MaxBlockSize] or one that gives more than MaxBlocks blocks.
func Sign(old []byte, blockSize int) (*Signature, error) {
	if len(old) > MaxBasisLen {
		return nil, fmt.Errorf("%w: basis of %d bytes (limit %d)", ErrTooLarge, len(old), MaxBasisLen)
	}
	if blockSize == 0 {
		blockSize = BlockSizeFor(len(old))
	}
	if blockSize < MinBlockSize || blockSize > MaxBlockSize {
		return nil, fmt.Errorf("%w: block size %d", ErrBadRequest, blockSize)
	}
	nb := numBlocks(len(old), blockSize)
	if nb > MaxBlocks {
		return nil, fmt.Errorf("%w: %d blocks of %d bytes (limit %d)", ErrBadRequest, nb, blockSize, MaxBlocks)
	}
	s := &Signature{
		BlockSize: blockSize,
		BasisLen:  len(old),
		StrongLen: strongLenFor(len(old), blockSize),
		Weak:      make([]uint32, nb),
	}
	s.Strong = make([]byte, nb*s.StrongLen)
	for i := range nb {
		blk := old[i*blockSize : min((i+1)*blockSize, len(old))]
		s.Weak[i] = weakOf(weakAB(blk))
		h := strongSum(blk)
		copy(s.Strong[i*s.StrongLen:], h[:s.StrongLen])
	}
	return s, nil
}

// Blocks returns the number of blocks.
func (s *Signature) Blocks() int { return len(s.Weak) }

// blockLen is the length of block i.
func (s *Signature) blockLen(i int) int {
	return min(s.BlockSize, s.BasisLen-i*s.BlockSize)
}

// strong returns the strong sum of block i.
func (s *Signature) strong(i int) []byte {
	return s.Strong[i*s.StrongLen : (i+1)*s.StrongLen]
}

// validate checks the fields against each other and the limits.
func (s *Signature) validate() error {
	switch {
	case s.BlockSize < MinBlockSize || s.BlockSize > MaxBlockSize:
		return fmt.Errorf("%w: block size %d", ErrBadSignature, s.BlockSize)
	case s.BasisLen < 0 || s.BasisLen > MaxBasisLen:
		return fmt.Errorf("%w: basis length %d", ErrBadSignature, s.BasisLen)
	case numBlocks(s.BasisLen, s.BlockSize) > MaxBlocks:
		return fmt.Errorf("%w: %d blocks", ErrBadSignature, numBlocks(s.BasisLen, s.BlockSize))
	case s.StrongLen < MinStrongLen || s.StrongLen > MaxStrongLen:
		return fmt.Errorf("%w: strong sum length %d", ErrBadSignature, s.StrongLen)
	case len(s.Weak) != numBlocks(s.BasisLen, s.BlockSize) || len(s.Strong) != len(s.Weak)*s.StrongLen:
		return fmt.Errorf("%w: %d weak and %d strong bytes for %d blocks", ErrBadSignature,
			len(s.Weak), len(s.Strong), numBlocks(s.BasisLen, s.BlockSize))
	}
	return nil
}

// MarshalBinary encodes s (see the package documentation for the format).
func (s *Signature) MarshalBinary() ([]byte, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(s.Weak)*(4+s.StrongLen))
	b = append(b, Version)
	b = binary.AppendUvarint(b, uint64(s.BlockSize))
	b = binary.AppendUvarint(b, uint64(s.BasisLen))
	b = append(b, byte(s.StrongLen))
	for i, w := range s.Weak {
		b = binary.LittleEndian.AppendUint32(b, w)
		b = append(b, s.strong(i)...)
	}
	return b, nil
}

// UnmarshalBinary decodes and validates an encoded signature. Every error
// wraps ErrBadSignature (and ErrVersion for an unknown version). The
// signature does not keep b.
func (s *Signature) UnmarshalBinary(b []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadSignature}, args...)...)
	}
	if len(b) == 0 {
		return bad("empty")
	}
	if b[0] != Version {
		return fmt.Errorf("%w: %w %d", ErrBadSignature, ErrVersion, b[0])
	}
	b = b[1:]
	bs, n, ok := uvarint(b)
	if !ok {
		return bad("block size varint")
	}
	b = b[n:]
	bl, n, ok := uvarint(b)
	if !ok {
		return bad("basis length varint")
	}
	b = b[n:]
	if len(b) == 0 {
		return bad("truncated before strong sum length")
	}
	if bs < MinBlockSize || bs > MaxBlockSize {
		return bad("block size %d", bs)
	}
	if bl > MaxBasisLen {
		return bad("basis length %d", bl)
	}
	t := Signature{BlockSize: int(bs), BasisLen: int(bl), StrongLen: int(b[0])}
	b = b[1:]
	nb := numBlocks(t.BasisLen, t.BlockSize)
	if nb > MaxBlocks {
		return bad("%d blocks", nb)
	}
	if t.StrongLen < MinStrongLen || t.StrongLen > MaxStrongLen {
		return bad("strong sum length %d", t.StrongLen)
	}
	if len(b) != nb*(4+t.StrongLen) {
		return bad("%d bytes of block sums, want %d", len(b), nb*(4+t.StrongLen))
	}
	t.Weak = make([]uint32, nb)
	t.Strong = make([]byte, nb*t.StrongLen)
	for i := range nb {
		t.Weak[i] = binary.LittleEndian.Uint32(b)
		copy(t.Strong[i*t.StrongLen:], b[4:4+t.StrongLen])
		b = b[4+t.StrongLen:]
	}
	*s = t
	return nil
}
