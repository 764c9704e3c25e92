package delta

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// roundTrip signs old, diffs nw against the decoded signature, applies the
// decoded delta and checks the result. It returns the encoded sizes and the
// literal bytes.
func roundTrip(t *testing.T, old, nw []byte, blockSize int) (sigLen, deltaLen, literal int) {
	t.Helper()
	sig, err := Sign(old, blockSize)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	enc, err := sig.MarshalBinary()
	if err != nil {
		t.Fatalf("Signature.MarshalBinary: %v", err)
	}
	var sig2 Signature
	if err := sig2.UnmarshalBinary(enc); err != nil {
		t.Fatalf("Signature.UnmarshalBinary: %v", err)
	}
	dl, err := Diff(&sig2, nw)
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	if len(dl) > len(nw)+MaxDeltaOverhead {
		t.Fatalf("delta of %d bytes for a %d-byte piece", len(dl), len(nw))
	}
	d, err := ParseDelta(dl)
	if err != nil {
		t.Fatalf("ParseDelta: %v", err)
	}
	again, err := d.MarshalBinary()
	if err != nil || !bytes.Equal(again, dl) {
		t.Fatalf("Delta.MarshalBinary does not give the same bytes back (err %v)", err)
	}
	got, err := Apply(old, dl, manifest.Hash(nw), len(nw))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !bytes.Equal(got, nw) {
		t.Fatal("Apply rebuilt other bytes")
	}
	return len(enc), len(dl), d.LiteralBytes()
}

func TestDeltaRoundTrip(t *testing.T) {
	const piece = 64 << 10
	old := randBytes(100, piece)
	edit := randBytes(101, 4096)
	tests := []struct {
		name       string
		old, nw    []byte
		blockSize  int
		maxLiteral int
	}{
		{"identical", old, old, 0, 0},
		{"overwrite 4 KiB in the middle", old, splice(old, 30000, 4096, edit), 0, 4096 + 2*1024},
		{"overwrite at start", old, splice(old, 0, 4096, edit), 0, 4096 + 1024},
		{"overwrite at end", old, splice(old, piece-4096, 4096, edit), 0, 4096 + 1024},
		{"insert one byte", old, splice(old, 12345, 0, []byte{1}), 0, 1024 + 1},
		{"delete one byte", old, splice(old, 12345, 1, nil), 0, 1024},
		{"insert at start", old, splice(old, 0, 0, edit[:10]), 0, 10},
		{"shifted into the next piece", old, old[100:], 0, 1024 - 100},
		{"blocks reordered", old, slices.Concat(old[32<<10:], old[:32<<10]), 0, 0},
		{"unrelated", old, randBytes(102, piece), 0, piece},
		{"empty basis", nil, old[:5000], 0, 5000},
		{"empty piece", old, nil, 0, 0},
		{"both empty", nil, nil, 0, 0},
		{"piece shorter than a block", old, old[500:700], 1024, 200},
		{"short last block kept at the end", old[:piece-300], old[:piece-300], 1024, 0},
		{"short last block after a deletion", old[:piece-300], splice(old[:piece-300], 100, 50, nil), 1024, 1024},
		{"short last block after the block before it", old[:piece-300], slices.Concat(edit[:77], old[61*1024:piece-300]), 1024, 77},
		{"short last block alone at the end", old[:piece-300], slices.Concat(edit[:77], old[63*1024:piece-300]), 1024, 77},
		{"minimum block size", old, splice(old, 999, 3, nil), MinBlockSize, MinBlockSize},
		{"repetitive data", bytes.Repeat([]byte("abcd"), piece/4), bytes.Repeat([]byte("abcd"), piece/4+5), 0, 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, lit := roundTrip(t, tt.old, tt.nw, tt.blockSize)
			if lit > tt.maxLiteral {
				t.Errorf("%d literal bytes, want at most %d", lit, tt.maxLiteral)
			}
		})
	}
}

// A new-piece window with a block's weak checksum but other bytes must not be
// copied from the basis.
func TestDiffWeakCollision(t *testing.T) {
	old := randBytes(110, 8192)
	sig, err := Sign(old, 1024)
	if err != nil {
		t.Fatal(err)
	}
	nw := slices.Clone(old)
	blk := nw[2048:3072]
	tweak(blk, tweakable(blk))
	if manifest.WeakSum(blk) != sig.Weak[2] {
		t.Fatal("test setup: tweak changed the weak checksum")
	}
	dl, err := Diff(sig, nw)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDelta(dl)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range d.Ops {
		if len(op.Literal) == 0 && op.Block <= 2 && op.Block+op.Blocks > 2 {
			t.Fatalf("block 2 copied although its bytes differ: %+v", d.Ops)
		}
	}
	got, err := Apply(old, dl, manifest.Hash(nw), len(nw))
	if err != nil || !bytes.Equal(got, nw) {
		t.Fatalf("Apply: %v", err)
	}
}

// A signature whose blocks all share one weak checksum must not make Diff
// hash every window.
func TestDiffAdversarialSignatureBounded(t *testing.T) {
	old := bytes.Repeat([]byte{0x40}, 64<<10)
	sig, err := Sign(old, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sig.Strong {
		sig.Strong[i] ^= 0xff // every strong sum wrong: weak hits everywhere, no match
	}
	nw := bytes.Repeat([]byte{0x40}, 1<<20)
	dl, err := Diff(sig, nw)
	if err != nil {
		t.Fatal(err)
	}
	d := newDiffer(sig, nw)
	d.run()
	if limit := failStart + d.examined*failPerWindow/1024 + 1; d.failed > limit {
		t.Fatalf("%d failed strong checks over %d positions, limit %d", d.failed, d.examined, limit)
	}
	if _, err := Apply(old, dl, manifest.Hash(nw), len(nw)); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func TestSignErrors(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		blockSize int
		err       error
	}{
		{"block too small", 1000, MinBlockSize - 1, ErrBadRequest},
		{"block too large", 1000, MaxBlockSize + 1, ErrBadRequest},
		{"too many blocks", MinBlockSize*MaxBlocks + 1, MinBlockSize, ErrBadRequest},
		{"basis too large", MaxBasisLen + 1, 0, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Sign(make([]byte, tt.n), tt.blockSize); !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestDiffErrors(t *testing.T) {
	sig, err := Sign(randBytes(1, 4096), 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Diff(sig, make([]byte, MaxPieceLen+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized piece: err = %v, want ErrTooLarge", err)
	}
	bad := *sig
	bad.Weak = bad.Weak[:2]
	if _, err := Diff(&bad, nil); !errors.Is(err, ErrBadSignature) {
		t.Errorf("inconsistent signature: err = %v, want ErrBadSignature", err)
	}
}

// The largest header plus one literal fits MaxDeltaOverhead.
func TestDiffOverheadBound(t *testing.T) {
	old := make([]byte, 4<<20)      // zeros; the length still takes a 4-byte varint
	nw := make([]byte, MaxPieceLen) // no zero block
	x := uint32(1)
	for i := range nw {
		x = x*1664525 + 1013904223
		nw[i] = byte(x>>24) | 1
	}
	sig, err := Sign(old, MaxBlockSize)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := Diff(sig, nw)
	if err != nil {
		t.Fatal(err)
	}
	if len(dl) > len(nw)+MaxDeltaOverhead {
		t.Fatalf("delta of %d bytes for a %d-byte piece", len(dl), len(nw))
	}
}

func TestBlockSizeFor(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 1 << 20, 16 << 20, MaxBasisLen} {
		b := BlockSizeFor(n)
		if b < MinBlockSize || b > MaxBlockSize || b&(b-1) != 0 || numBlocks(n, b) > MaxBlocks {
			t.Errorf("BlockSizeFor(%d) = %d", n, b)
		}
		if _, err := Sign(make([]byte, n), 0); err != nil {
			t.Errorf("Sign(%d bytes, 0): %v", n, err)
		}
	}
}
