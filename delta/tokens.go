package delta

import (
	"encoding/binary"
	"fmt"
)

// Op is one token of a delta: a literal run of new bytes when Literal is
// not empty, else a copy of Blocks basis blocks starting at block Block.
type Op struct {
	Literal []byte
	Block   int
	Blocks  int
}

// Delta is a decoded token stream: how to rebuild Length bytes from a basis
// of BasisLen bytes signed with BlockSize.
type Delta struct {
	BlockSize int
	BasisLen  int
	Length    int
	Ops       []Op
}

// MaxOps is the most tokens a delta may have: Diff never emits more than a
// copy and a literal per basis block, plus one.
const MaxOps = 2*MaxBlocks + 1

// LiteralBytes returns how many bytes the delta carries as literals.
func (d *Delta) LiteralBytes() int {
	n := 0
	for _, op := range d.Ops {
		n += len(op.Literal)
	}
	return n
}

// MarshalBinary encodes d, after checking it as ParseDelta would.
func (d *Delta) MarshalBinary() ([]byte, error) {
	hdr := header{blockSize: d.BlockSize, basisLen: d.BasisLen, length: d.Length}
	if err := hdr.validate(); err != nil {
		return nil, err
	}
	e := newEncoder(hdr, d.Length)
	produced := 0
	for _, op := range d.Ops {
		n, err := hdr.opLen(op)
		if err != nil {
			return nil, err
		}
		produced += n
		if produced > d.Length {
			return nil, fmt.Errorf("%w: tokens produce more than %d bytes", ErrBadDelta, d.Length)
		}
		e.op(op)
	}
	if produced != d.Length {
		return nil, fmt.Errorf("%w: tokens produce %d bytes, want %d", ErrBadDelta, produced, d.Length)
	}
	if len(d.Ops) > MaxOps {
		return nil, fmt.Errorf("%w: %d tokens (limit %d)", ErrBadDelta, len(d.Ops), MaxOps)
	}
	return e.buf, nil
}

// ParseDelta decodes and validates an encoded delta without a basis: every
// copy lies inside the basis the header states, no token is empty, and the
// tokens produce exactly Length bytes with nothing after them. Literal ops
// alias b. Every error wraps ErrBadDelta (and ErrVersion for an unknown
// version).
func ParseDelta(b []byte) (*Delta, error) {
	r, err := newTokenReader(b)
	if err != nil {
		return nil, err
	}
	d := &Delta{BlockSize: r.hdr.blockSize, BasisLen: r.hdr.basisLen, Length: r.hdr.length}
	for {
		op, ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return d, nil
		}
		d.Ops = append(d.Ops, op)
	}
}

// header is the fixed part of an encoded delta.
type header struct {
	blockSize, basisLen, length int
}

func (h header) blocks() int { return numBlocks(h.basisLen, h.blockSize) }

func (h header) validate() error {
	switch {
	case h.blockSize < MinBlockSize || h.blockSize > MaxBlockSize:
		return fmt.Errorf("%w: block size %d", ErrBadDelta, h.blockSize)
	case h.basisLen < 0 || h.basisLen > MaxBasisLen || h.blocks() > MaxBlocks:
		return fmt.Errorf("%w: basis length %d", ErrBadDelta, h.basisLen)
	case h.length < 0 || h.length > MaxPieceLen:
		return fmt.Errorf("%w: length %d", ErrBadDelta, h.length)
	}
	return nil
}

// opLen checks op against the header and returns how many bytes it produces.
func (h header) opLen(op Op) (int, error) {
	if len(op.Literal) > 0 {
		return len(op.Literal), nil
	}
	nb := h.blocks()
	if op.Blocks < 1 || op.Block < 0 || op.Block >= nb || op.Blocks > nb-op.Block {
		return 0, fmt.Errorf("%w: copy of %d blocks at block %d outside a basis of %d blocks", ErrBadDelta, op.Blocks, op.Block, nb)
	}
	end := op.Block + op.Blocks
	return min(end*h.blockSize, h.basisLen) - op.Block*h.blockSize, nil
}

// encoder appends tokens to an encoded delta.
type encoder struct {
	buf  []byte
	next int // block after the previous copy
}

func newEncoder(h header, sizeHint int) *encoder {
	e := &encoder{buf: make([]byte, 0, min(sizeHint/8, 1<<20)+32)}
	e.buf = append(e.buf, Version)
	e.buf = binary.AppendUvarint(e.buf, uint64(h.blockSize))
	e.buf = binary.AppendUvarint(e.buf, uint64(h.basisLen))
	e.buf = binary.AppendUvarint(e.buf, uint64(h.length))
	return e
}

func (e *encoder) op(op Op) {
	if len(op.Literal) > 0 {
		e.buf = binary.AppendUvarint(e.buf, uint64(len(op.Literal))<<1)
		e.buf = append(e.buf, op.Literal...)
		return
	}
	e.buf = binary.AppendUvarint(e.buf, uint64(op.Blocks)<<1|1)
	e.buf = binary.AppendUvarint(e.buf, zigzag(int64(op.Block-e.next)))
	e.next = op.Block + op.Blocks
}

// tokenReader decodes an encoded delta token by token, validating each.
type tokenReader struct {
	hdr      header
	b        []byte // rest of the input
	produced int
	nextBlk  int // block after the previous copy
	ops      int
}

func newTokenReader(b []byte) (*tokenReader, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrBadDelta)
	}
	if b[0] != Version {
		return nil, fmt.Errorf("%w: %w %d", ErrBadDelta, ErrVersion, b[0])
	}
	b = b[1:]
	var vals [3]uint64
	for i, what := range []string{"block size", "basis length", "length"} {
		v, n, ok := uvarint(b)
		if !ok {
			return nil, fmt.Errorf("%w: %s varint", ErrBadDelta, what)
		}
		if v > MaxBasisLen {
			return nil, fmt.Errorf("%w: %s %d", ErrBadDelta, what, v)
		}
		vals[i] = v
		b = b[n:]
	}
	h := header{blockSize: int(vals[0]), basisLen: int(vals[1]), length: int(vals[2])}
	if err := h.validate(); err != nil {
		return nil, err
	}
	return &tokenReader{hdr: h, b: b}, nil
}

// next returns the next token, or ok=false after the last one (when the
// tokens have produced exactly the header's length and no input is left).
func (r *tokenReader) next() (op Op, ok bool, err error) {
	if r.produced == r.hdr.length {
		if len(r.b) != 0 {
			return Op{}, false, fmt.Errorf("%w: %d bytes after the last token", ErrBadDelta, len(r.b))
		}
		return Op{}, false, nil
	}
	if len(r.b) == 0 {
		return Op{}, false, fmt.Errorf("%w: truncated after %d of %d bytes", ErrBadDelta, r.produced, r.hdr.length)
	}
	if r.ops++; r.ops > MaxOps {
		return Op{}, false, fmt.Errorf("%w: more than %d tokens", ErrBadDelta, MaxOps)
	}
	h, n, ok := uvarint(r.b)
	if !ok {
		return Op{}, false, fmt.Errorf("%w: token varint at token %d", ErrBadDelta, r.ops)
	}
	r.b = r.b[n:]
	left := uint64(r.hdr.length - r.produced)
	if h&1 == 0 {
		size := h >> 1
		switch {
		case size == 0:
			return Op{}, false, fmt.Errorf("%w: empty literal at token %d", ErrBadDelta, r.ops)
		case size > left:
			return Op{}, false, fmt.Errorf("%w: literal of %d bytes with %d left to produce", ErrBadDelta, size, left)
		case size > uint64(len(r.b)):
			return Op{}, false, fmt.Errorf("%w: literal of %d bytes truncated to %d", ErrBadDelta, size, len(r.b))
		}
		op = Op{Literal: r.b[:size:size]}
		r.b = r.b[size:]
		r.produced += int(size)
		return op, true, nil
	}
	count := h >> 1
	d, n, ok := uvarint(r.b)
	if !ok {
		return Op{}, false, fmt.Errorf("%w: copy offset varint at token %d", ErrBadDelta, r.ops)
	}
	r.b = r.b[n:]
	nb := int64(r.hdr.blocks())
	start := int64(r.nextBlk) + unzigzag(d)
	if count == 0 || count > uint64(nb) || start < 0 || start >= nb || int64(count) > nb-start {
		return Op{}, false, fmt.Errorf("%w: copy of %d blocks at block %d outside a basis of %d blocks", ErrBadDelta, count, start, nb)
	}
	op = Op{Block: int(start), Blocks: int(count)}
	size, _ := r.hdr.opLen(op)
	if uint64(size) > left {
		return Op{}, false, fmt.Errorf("%w: copy of %d bytes with %d left to produce", ErrBadDelta, size, left)
	}
	r.nextBlk = op.Block + op.Blocks
	r.produced += size
	return op, true, nil
}
