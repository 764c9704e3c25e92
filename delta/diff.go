package delta

import (
	"bytes"
	"fmt"
	"slices"
)

// Diff computes the delta that rebuilds newPiece from the basis sig
// describes (the source side of the piece-level exchange). It rolls the weak
// checksum over newPiece one byte at a time, confirms weak hits with the
// truncated strong sum (preferring the block after the previous match, as
// rsync does), and emits copies of matched blocks and literals for the rest.
// The basis's short last block is matched at the end of newPiece and right
// after the block before it. The result is always a valid delta, at most
// MaxDeltaOverhead bytes longer than newPiece. Errors: ErrTooLarge for a piece
// longer than MaxPieceLen, ErrBadSignature for an inconsistent sig.
func Diff(sig *Signature, newPiece []byte) ([]byte, error) {
	if len(newPiece) > MaxPieceLen {
		return nil, fmt.Errorf("%w: piece of %d bytes (limit %d)", ErrTooLarge, len(newPiece), MaxPieceLen)
	}
	if err := sig.validate(); err != nil {
		return nil, err
	}
	d := newDiffer(sig, newPiece)
	d.run()
	d.flushLiteral(len(newPiece))
	d.flushCopy()
	hdr := header{blockSize: sig.BlockSize, basisLen: sig.BasisLen, length: len(newPiece)}
	if len(d.enc.buf) > len(newPiece)+MaxDeltaOverhead {
		// Scattered small matches cost more in token headers than they
		// save: send the piece as one literal.
		e := newEncoder(hdr, len(newPiece))
		if len(newPiece) > 0 {
			e.op(Op{Literal: newPiece})
		}
		return e.buf, nil
	}
	return d.enc.buf, nil
}

// chain is the run of blocks with one weak checksum in differ.order.
type chain struct{ start, n int32 }

type differ struct {
	sig    *Signature
	nw     []byte
	bs     int
	set    *weakSet
	chains []chain
	order  []int32 // full blocks sorted by weak checksum, then index
	short  int     // index of the short last block, or -1

	enc        *encoder
	lit        int // start of the pending literal in nw
	copyStart  int // pending copy run, merged while blocks are consecutive
	copyBlocks int

	examined int
	failed   int
}

func newDiffer(sig *Signature, nw []byte) *differ {
	d := &differ{sig: sig, nw: nw, bs: sig.BlockSize, short: -1}
	nb := sig.Blocks()
	full := nb
	if nb > 0 && sig.blockLen(nb-1) < sig.BlockSize {
		d.short = nb - 1
		full--
	}
	d.order = make([]int32, full)
	for i := range d.order {
		d.order[i] = int32(i)
	}
	slices.SortStableFunc(d.order, func(x, y int32) int {
		wx, wy := sig.Weak[x], sig.Weak[y]
		switch {
		case wx < wy:
			return -1
		case wx > wy:
			return 1
		}
		return 0
	})
	var values []uint32
	var payloads []int32
	for i := 0; i < len(d.order); {
		j := i
		w := sig.Weak[d.order[i]]
		for j < len(d.order) && sig.Weak[d.order[j]] == w {
			j++
		}
		payloads = append(payloads, int32(len(d.chains)))
		values = append(values, w)
		d.chains = append(d.chains, chain{start: int32(i), n: int32(min(j-i, MaxChain))})
		i = j
	}
	d.set = newWeakSet(len(values))
	d.set.build(values, payloads)
	d.enc = newEncoder(header{blockSize: sig.BlockSize, basisLen: sig.BasisLen, length: len(nw)}, len(nw))
	return d
}

// run scans the new piece and emits tokens for everything matched.
func (d *differ) run() {
	nw, bs := d.nw, d.bs
	p := 0
	next := -1 // block expected after the previous match
	var a, b uint32
	valid := false
	for p+bs <= len(nw) {
		if !valid {
			a, b = weakAB(nw[p : p+bs])
			valid = true
		}
		j, a2, b2, hit := rollScan(nw, p, bs, a, b, d.set)
		d.examined += j - p
		p, a, b = j, a2, b2
		if hit {
			if blk := d.match(weakOf(a, b), nw[p:p+bs], next); blk >= 0 {
				d.emitCopy(p, blk, bs)
				p += bs
				next = blk + 1
				valid = false
				if next == d.short {
					if n := d.sig.blockLen(d.short); p+n <= len(nw) && d.equal(d.short, nw[p:p+n]) {
						d.emitCopy(p, d.short, n)
						p += n
						next = -1
					}
				}
				continue
			}
		}
		if p+bs >= len(nw) {
			break
		}
		a, b = rollOne(a, b, bs, nw[p], nw[p+bs])
		d.examined++
		p++
	}
	// The basis's short last block at the end of the new piece.
	if d.short >= 0 {
		n := d.sig.blockLen(d.short)
		if at := len(nw) - n; at >= d.lit && d.equal(d.short, nw[at:]) {
			d.emitCopy(at, d.short, n)
		}
	}
}

// match returns the basis block that window win (weak checksum w) equals, or
// -1. It tries the expected block next first, then the chain of blocks with
// weak checksum w, hashing win once, within the failure budget.
func (d *differ) match(w uint32, win []byte, next int) int {
	if d.failed >= failStart+d.examined*failPerWindow/d.bs {
		return -1
	}
	var strong [4]byte
	hashed := false
	sum := func() []byte {
		if !hashed {
			strong = strongSum(win)
			hashed = true
		}
		return strong[:d.sig.StrongLen]
	}
	if next >= 0 && next < d.sig.Blocks() && next != d.short && d.sig.Weak[next] == w {
		if bytes.Equal(sum(), d.sig.strong(next)) {
			return next
		}
	}
	pl, ok := d.set.lookup(w)
	if !ok {
		return -1
	}
	c := d.chains[pl]
	for _, blk := range d.order[c.start : c.start+c.n] {
		if bytes.Equal(sum(), d.sig.strong(int(blk))) {
			return int(blk)
		}
	}
	d.failed++
	return -1
}

// equal reports whether win matches block blk by weak and strong sum.
func (d *differ) equal(blk int, win []byte) bool {
	if weakOf(weakAB(win)) != d.sig.Weak[blk] {
		return false
	}
	h := strongSum(win)
	return bytes.Equal(h[:d.sig.StrongLen], d.sig.strong(blk))
}

// copyEnd is the block after the pending copy run (0 if none).
func (d *differ) copyEnd() int { return d.copyStart + d.copyBlocks }

// emitCopy records that nw[at:at+n] is basis block blk.
func (d *differ) emitCopy(at, blk, n int) {
	if at > d.lit {
		d.flushCopy()
		d.flushLiteral(at)
	}
	d.lit = at + n
	if d.copyBlocks > 0 && d.copyEnd() == blk {
		d.copyBlocks++
		return
	}
	d.flushCopy()
	d.copyStart, d.copyBlocks = blk, 1
}

func (d *differ) flushCopy() {
	if d.copyBlocks > 0 {
		d.enc.op(Op{Block: d.copyStart, Blocks: d.copyBlocks})
		d.copyStart, d.copyBlocks = 0, 0
	}
}

// flushLiteral emits nw[d.lit:end] as a literal.
func (d *differ) flushLiteral(end int) {
	if end > d.lit {
		d.flushCopy()
		d.enc.op(Op{Literal: d.nw[d.lit:end]})
		d.lit = end
	}
}
