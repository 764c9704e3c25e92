package delta

import "encoding/binary"

// Varint helpers shared by the signature and delta codecs. Decoding accepts
// only the shortest (canonical) form, so every valid encoding has exactly one
// byte sequence.

// uvarint decodes an unsigned varint at the front of b and returns the value
// and the number of bytes used, or ok=false for a truncated, overlong or
// non-canonical varint.
func uvarint(b []byte) (v uint64, n int, ok bool) {
	v, n = binary.Uvarint(b)
	if n <= 0 || n != uvarintLen(v) {
		return 0, 0, false
	}
	return v, n, true
}

// uvarintLen is the length of the canonical encoding of v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// zigzag maps a signed value to an unsigned one with small magnitudes small.
func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// unzigzag is the inverse of zigzag.
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
