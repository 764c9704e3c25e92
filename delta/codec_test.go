package delta

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// enc builds an encoding from parts: byte values, uvarints (uv) and raw
// byte slices.
type uv uint64

func enc(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case byte:
			b = append(b, v)
		case int:
			b = append(b, byte(v))
		case uv:
			b = binary.AppendUvarint(b, uint64(v))
		case []byte:
			b = append(b, v...)
		default:
			panic("enc: bad part")
		}
	}
	return b
}

func TestSignatureRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 1024, 100000} {
		old := randBytes(uint64(n), n)
		sig, err := Sign(old, 1024)
		if err != nil {
			t.Fatal(err)
		}
		b, err := sig.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 + uvarintLen(1024) + uvarintLen(uint64(n)) + 1 + sig.Blocks()*(4+sig.StrongLen); len(b) != want {
			t.Errorf("n=%d: encoded %d bytes, want %d", n, len(b), want)
		}
		var got Signature
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if got.BlockSize != sig.BlockSize || got.BasisLen != sig.BasisLen || got.StrongLen != sig.StrongLen ||
			!slicesEqualU32(got.Weak, sig.Weak) || !bytes.Equal(got.Strong, sig.Strong) {
			t.Fatalf("n=%d: round trip changed the signature", n)
		}
	}
}

func slicesEqualU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSignatureHostile(t *testing.T) {
	blk := make([]byte, 4+3) // one block: weak + 3-byte strong
	tests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty", nil, ErrBadSignature},
		{"version 0", enc(0, uv(1024), uv(1), 3, blk), ErrVersion},
		{"version 2", enc(2, uv(1024), uv(1), 3, blk), ErrBadSignature},
		{"truncated block size", enc(1, 0x80), ErrBadSignature},
		{"overlong varint", enc(1, 0x80|0x00, 0x88, 0x00, uv(1), 3, blk), ErrBadSignature},
		{"varint overflow", enc(1, bytes.Repeat([]byte{0xff}, 10), 0x01), ErrBadSignature},
		{"block size too small", enc(1, uv(MinBlockSize-1), uv(1), 3, blk), ErrBadSignature},
		{"block size too large", enc(1, uv(MaxBlockSize+1), uv(1), 3, blk), ErrBadSignature},
		{"basis too long", enc(1, uv(1024), uv(MaxBasisLen+1), 3), ErrBadSignature},
		{"too many blocks", enc(1, uv(MinBlockSize), uv(MinBlockSize*MaxBlocks+1), 3), ErrBadSignature},
		{"no strong length", enc(1, uv(1024), uv(1)), ErrBadSignature},
		{"strong length 0", enc(1, uv(1024), uv(1), 0, blk[:4]), ErrBadSignature},
		{"strong length 5", enc(1, uv(1024), uv(1), 5, make([]byte, 9)), ErrBadSignature},
		{"missing block", enc(1, uv(1024), uv(1025), 3, blk), ErrBadSignature},
		{"extra block", enc(1, uv(1024), uv(1), 3, blk, blk), ErrBadSignature},
		{"truncated block", enc(1, uv(1024), uv(1), 3, blk[:6]), ErrBadSignature},
		{"valid", enc(1, uv(1024), uv(1025), 3, blk, blk), nil},
		{"valid empty basis", enc(1, uv(1024), uv(0), 3), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Signature
			err := s.UnmarshalBinary(tt.b)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("err = %v does not wrap ErrBadSignature", err)
			}
		})
	}
}

func TestDeltaHostile(t *testing.T) {
	old := randBytes(200, 3000) // 3 blocks of 1024 bytes, the last one 952
	want := bytes.Clone(old)    // the valid deltas below rebuild the basis itself
	h := manifest.Hash(want)
	hdr := func(length int) []byte { return enc(1, uv(1024), uv(3000), uv(length)) }
	lit := func(n int) []byte { return enc(uv(n<<1), want[:n]) }
	cp := func(blocks int, rel int64) []byte { return enc(uv(blocks<<1|1), uv(zigzag(rel))) }
	tests := []struct {
		name   string
		delta  []byte
		length int
		want   manifest.ID
		err    error
	}{
		{"empty", nil, 3000, h, ErrBadDelta},
		{"unknown version", enc(9, uv(1024), uv(3000), uv(3000), cp(3, 0)), 3000, h, ErrVersion},
		{"block size too small", enc(1, uv(MinBlockSize-1), uv(3000), uv(3000)), 3000, h, ErrBadDelta},
		{"block size too large", enc(1, uv(MaxBlockSize+1), uv(3000), uv(3000)), 3000, h, ErrBadDelta},
		{"basis too long", enc(1, uv(1024), uv(MaxBasisLen+1), uv(3000)), 3000, h, ErrBadDelta},
		{"length too long", enc(1, uv(1024), uv(3000), uv(MaxPieceLen+1)), MaxPieceLen + 1, h, ErrBadRequest},
		{"header length differs from the piece", cat(hdr(2999), cp(3, 0)), 3000, h, ErrBadDelta},
		{"basis of another length", cat(enc(1, uv(1024), uv(3001), uv(3000)), cp(3, 0)), 3000, h, ErrBasis},
		{"truncated header", enc(1, uv(1024)), 3000, h, ErrBadDelta},
		{"no tokens", hdr(3000), 3000, h, ErrBadDelta},
		{"empty literal", cat(hdr(3000), enc(uv(0))), 3000, h, ErrBadDelta},
		{"literal longer than the piece", cat(hdr(3000), enc(uv(3001<<1)), want, enc(0)), 3000, h, ErrBadDelta},
		{"literal truncated", cat(hdr(3000), enc(uv(3000<<1)), want[:10]), 3000, h, ErrBadDelta},
		{"copy of zero blocks", cat(hdr(3000), cp(0, 0)), 3000, h, ErrBadDelta},
		{"copy before the basis", cat(hdr(3000), cp(1, -1)), 3000, h, ErrBadDelta},
		{"copy after the basis", cat(hdr(3000), cp(1, 3)), 3000, h, ErrBadDelta},
		{"copy running past the basis", cat(hdr(3000), cp(4, 0)), 3000, h, ErrBadDelta},
		{"copy of a huge count", cat(hdr(3000), enc(uv(1<<62|1), uv(0))), 3000, h, ErrBadDelta},
		{"copy offset overflow", cat(hdr(3000), cp(1, 0), enc(uv(3), bytes.Repeat([]byte{0xff}, 9), 0x01)), 3000, h, ErrBadDelta},
		{"copy producing too much", cat(hdr(2000), cp(2, 0), cp(1, 0)), 2000, h, ErrBadDelta},
		{"truncated copy", cat(hdr(3000), enc(uv(3<<1|1))), 3000, h, ErrBadDelta},
		{"tokens short of the length", cat(hdr(3000), cp(2, 0)), 3000, h, ErrBadDelta},
		{"bytes after the last token", cat(hdr(3000), cp(3, 0), enc(0)), 3000, h, ErrBadDelta},
		{"non-canonical token varint", cat(hdr(3000), enc(0x87, 0x00, uv(0))), 3000, h, ErrBadDelta},
		{"wrong hash", cat(hdr(3000), cp(3, 0)), 3000, manifest.Hash([]byte("other")), ErrMismatch},
		{"wrong bytes", cat(hdr(3000), lit(1), enc(uv(2999<<1)), make([]byte, 2999)), 3000, h, ErrMismatch},
		{"valid copy", cat(hdr(3000), cp(3, 0)), 3000, h, nil},
		{"valid mixed", cat(hdr(3000), lit(1024), cp(2, 1)), 3000, h, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Apply(old, tt.delta, tt.want, tt.length)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Apply: err = %v, want %v", err, tt.err)
			}
			if err == nil && !bytes.Equal(got, want) {
				t.Fatal("Apply rebuilt other bytes")
			}
			// ParseDelta agrees on everything that needs no basis.
			_, perr := ParseDelta(tt.delta)
			switch {
			case errors.Is(tt.err, ErrBadDelta) && tt.name != "header length differs from the piece":
				if !errors.Is(perr, ErrBadDelta) {
					t.Fatalf("ParseDelta: err = %v, want ErrBadDelta", perr)
				}
			case tt.err == nil:
				if perr != nil {
					t.Fatalf("ParseDelta: %v", perr)
				}
			}
		})
	}
}

// cat concatenates encoded parts.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDeltaMarshalRejectsInvalid(t *testing.T) {
	tests := []struct {
		name string
		d    Delta
	}{
		{"bad block size", Delta{BlockSize: 1, BasisLen: 0, Length: 0}},
		{"copy outside", Delta{BlockSize: 1024, BasisLen: 1024, Length: 1024, Ops: []Op{{Block: 1, Blocks: 1}}}},
		{"short", Delta{BlockSize: 1024, BasisLen: 1024, Length: 2000, Ops: []Op{{Block: 0, Blocks: 1}}}},
		{"long", Delta{BlockSize: 1024, BasisLen: 2048, Length: 1000, Ops: []Op{{Block: 0, Blocks: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.d.MarshalBinary(); !errors.Is(err, ErrBadDelta) {
				t.Fatalf("err = %v, want ErrBadDelta", err)
			}
		})
	}
}
