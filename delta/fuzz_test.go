package delta

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// Seeds beyond these live in testdata/fuzz/<FuzzName>/.

func FuzzSignatureDecode(f *testing.F) {
	for _, n := range []int{0, 1, 1000, 5000} {
		sig, err := Sign(randBytes(uint64(n), n), MinBlockSize)
		if err != nil {
			f.Fatal(err)
		}
		b, err := sig.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Signature
		if err := s.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("error %v does not wrap ErrBadSignature", err)
			}
			return
		}
		again, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("a decoded signature does not encode back to its bytes (err %v)", err)
		}
		// Any valid signature can be diffed against.
		nw := randBytes(uint64(len(b)), min(len(b)*3, 20000))
		d, err := Diff(&s, nw)
		if err != nil {
			t.Fatalf("Diff: %v", err)
		}
		if _, err := ParseDelta(d); err != nil {
			t.Fatalf("Diff made an invalid delta: %v", err)
		}
	})
}

// build rebuilds a parsed delta from old, independently of Apply.
func build(d *Delta, old []byte) []byte {
	var out []byte
	for _, op := range d.Ops {
		if len(op.Literal) > 0 {
			out = append(out, op.Literal...)
			continue
		}
		for blk := op.Block; blk < op.Block+op.Blocks; blk++ {
			out = append(out, old[blk*d.BlockSize:min((blk+1)*d.BlockSize, len(old))]...)
		}
	}
	return out
}

func FuzzDeltaDecode(f *testing.F) {
	old := randBytes(1, 3000)
	for _, nw := range [][]byte{old, nil, old[:10], splice(old, 1000, 5, []byte("hello")), randBytes(2, 700)} {
		sig, err := Sign(old, MinBlockSize)
		if err != nil {
			f.Fatal(err)
		}
		d, err := Diff(sig, nw)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDelta(b)
		if err != nil {
			if !errors.Is(err, ErrBadDelta) {
				t.Fatalf("error %v does not wrap ErrBadDelta", err)
			}
			if _, err := Apply(make([]byte, 100), b, manifest.ID{}, 100); err == nil {
				t.Fatal("Apply accepted a delta ParseDelta rejects")
			}
			return
		}
		again, err := d.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("a decoded delta does not encode back to its bytes (err %v)", err)
		}
		if len(d.Ops) > MaxOps {
			t.Fatalf("%d ops", len(d.Ops))
		}
		old := randBytes(3, d.BasisLen)
		want := build(d, old)
		if len(want) != d.Length {
			t.Fatalf("ops produce %d bytes, header says %d", len(want), d.Length)
		}
		got, err := Apply(old, b, manifest.Hash(want), d.Length)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Apply disagrees with the parsed ops (err %v)", err)
		}
	})
}

func FuzzApply(f *testing.F) {
	old := randBytes(4, 2000)
	sig, err := Sign(old, MinBlockSize)
	if err != nil {
		f.Fatal(err)
	}
	nw := splice(old, 300, 10, []byte("x"))
	d, err := Diff(sig, nw)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(old, d, len(nw))
	f.Add(old[:1999], d, len(nw))
	f.Add(old, d, len(nw)+1)
	f.Add([]byte{}, []byte{1, 0x80, 2, 0, 0}, 0)
	f.Fuzz(func(t *testing.T, old, delta []byte, length int) {
		// The piece is whatever the parsed delta rebuilds, when it is
		// valid; Apply must agree, and must fail when it is not.
		var want []byte
		pd, perr := ParseDelta(delta)
		if perr == nil && pd.BasisLen == len(old) {
			want = build(pd, old)
		}
		got, err := Apply(old, delta, manifest.Hash(want), length)
		switch {
		case err != nil:
			if perr == nil && pd.BasisLen == len(old) && pd.Length == length {
				t.Fatalf("Apply failed on a valid delta: %v", err)
			}
			if !errors.Is(err, ErrBadDelta) && !errors.Is(err, ErrBasis) && !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrMismatch) {
				t.Fatalf("unexpected error kind: %v", err)
			}
		case perr != nil:
			t.Fatalf("Apply accepted a delta ParseDelta rejects (%v)", perr)
		case !bytes.Equal(got, want) || len(got) != length:
			t.Fatal("Apply output differs from the parsed ops")
		}
	})
}

func FuzzDiffApply(f *testing.F) {
	old := randBytes(5, 3000)
	f.Add(old, splice(old, 100, 0, []byte("inserted")), uint16(0))
	f.Add(old, old[500:], uint16(100))
	f.Add([]byte{}, old, uint16(7))
	f.Add(bytes.Repeat([]byte{0x40}, 4000), bytes.Repeat([]byte{0x40}, 4001), uint16(0))
	f.Fuzz(func(t *testing.T, old, nw []byte, bs uint16) {
		blockSize := MinBlockSize + int(bs)%2048
		sig, err := Sign(old, blockSize)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Diff(sig, nw)
		if err != nil {
			t.Fatal(err)
		}
		if len(d) > len(nw)+MaxDeltaOverhead {
			t.Fatalf("delta of %d bytes for a %d-byte piece", len(d), len(nw))
		}
		got, err := Apply(old, d, manifest.Hash(nw), len(nw))
		if err != nil || !bytes.Equal(got, nw) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func FuzzFind(f *testing.F) {
	target := randBytes(6, 1000)
	f.Add(target, splice(target, 10, 0, []byte("abc")), uint8(0))
	f.Add(target, target[333:], uint8(50))
	f.Add(bytes.Repeat([]byte{1}, 600), bytes.Repeat([]byte{1}, 900), uint8(3))
	f.Fuzz(func(t *testing.T, target, basis []byte, ps uint8) {
		m := manifestOf(target, 1+int(ps)%200)
		res, err := Find(context.Background(), bytes.NewReader(basis), int64(len(basis)), m, all(len(m.Pieces)))
		if err != nil {
			t.Fatal(err)
		}
		// The same with a known range carved out of the basis.
		known := []Range{{Off: int64(ps) * 3, Len: int64(len(basis) / 4)}}
		res2, err := FindKnown(context.Background(), bytes.NewReader(basis), int64(len(basis)), m, all(len(m.Pieces)), known)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []FindResult{res, res2} {
			seen := map[int]bool{}
			for _, mt := range r.Matches {
				n := m.PieceLen(mt.Piece)
				if seen[mt.Piece] || mt.Offset < 0 || mt.Offset+n > int64(len(basis)) ||
					manifest.Hash(basis[mt.Offset:mt.Offset+n]) != m.Pieces[mt.Piece].Hash {
					t.Fatalf("bad match %+v", mt)
				}
				seen[mt.Piece] = true
			}
		}
	})
}
