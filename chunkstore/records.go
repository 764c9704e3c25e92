package chunkstore

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/dartsync/dartsync/manifest"
)

// Key prefixes of the store's key spaces (see the package documentation,
// "Persistent state"), and the schema version stored under keyVersion.
const (
	prefixMeta     byte = 'm' // m‖name → meta value
	prefixFiles    byte = 'f' // f‖path → uvarint ref
	prefixRefs     byte = 'r' // r‖ref → ref record
	prefixPieces   byte = 'h' // h‖H[:4]‖ref‖H[4:] → location
	prefixPartials byte = 'p' // p‖file ID → partial record
)

var (
	keyVersion = []byte{prefixMeta, 'v'} // uvarint schemaVersion, written last by a migration
	keySeq     = []byte{prefixMeta, 's'} // uvarint: every ref allocated so far is below it
)

const schemaVersion = 2

// hashPrefixLen is how much of a piece hash a ref record keeps: enough to
// find the ref's piece keys (h‖H[:4]‖ref) again, which hold the rest.
const hashPrefixLen = 4

// Kinds of ref records.
const (
	kindFile    byte = 'f' // name is the folder-relative path; no stamp
	kindStamped byte = 's' // a complete file with a stamp (modification time)
	kindPartial byte = 'p' // name is the 32-byte file ID
)

// appendRef appends ref in an order-preserving, self-delimiting form: one
// byte of length, then the big-endian bytes without leading zeros.
func appendRef(b []byte, ref uint64) []byte {
	n := (64 - bits.LeadingZeros64(ref) + 7) / 8
	b = append(b, byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(ref>>(8*i)))
	}
	return b
}

// readRef decodes a ref written by appendRef at the start of b and returns
// it with its encoded length (0: malformed).
func readRef(b []byte) (ref uint64, n int) {
	if len(b) == 0 || b[0] > 8 || len(b) < 1+int(b[0]) || (b[0] > 0 && b[1] == 0) {
		return 0, 0 // short, or not the shortest form
	}
	for _, c := range b[1 : 1+b[0]] {
		ref = ref<<8 | uint64(c)
	}
	return ref, 1 + int(b[0])
}

func refKey(ref uint64) []byte { return appendRef([]byte{prefixRefs}, ref) }

func fileKey(path string) []byte { return append([]byte{prefixFiles}, path...) }

func partialKey(id manifest.ID) []byte { return append([]byte{prefixPartials}, id[:]...) }

// pieceKey is h‖H[:4]‖ref‖H[4:]: every location of H is under h‖H[:4],
// and every location of ref's pieces with that prefix under
// pieceRefPrefix.
func pieceKey(h manifest.ID, ref uint64) []byte {
	k := make([]byte, 0, 1+manifest.IDSize+9)
	k = append(append(k, prefixPieces), h[:hashPrefixLen]...)
	k = appendRef(k, ref)
	return append(k, h[hashPrefixLen:]...)
}

// pieceRefPrefix is the prefix of the piece keys of ref whose hash starts
// with h8.
func pieceRefPrefix(h8 []byte, ref uint64) []byte {
	return appendRef(append([]byte{prefixPieces}, h8...), ref)
}

// parsePieceKey splits a piece key; ok is false if it is malformed.
func parsePieceKey(k []byte) (h manifest.ID, ref uint64, ok bool) {
	if len(k) < 1+hashPrefixLen || k[0] != prefixPieces {
		return h, 0, false
	}
	ref, n := readRef(k[1+hashPrefixLen:])
	rest := k[1+hashPrefixLen+n:]
	if n == 0 || len(rest) != manifest.IDSize-hashPrefixLen {
		return h, 0, false
	}
	copy(h[:], k[1:1+hashPrefixLen])
	copy(h[hashPrefixLen:], rest)
	return h, ref, true
}

func encodeLoc(off, n int64) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64)
	b = binary.AppendUvarint(b, uint64(off))
	return binary.AppendUvarint(b, uint64(n))
}

func decodeLoc(v []byte) (off, n int64, err error) {
	o, k := binary.Uvarint(v)
	if k <= 0 {
		return 0, 0, fmt.Errorf("chunkstore: corrupt location record")
	}
	l, k2 := binary.Uvarint(v[k:])
	if k2 <= 0 || k+k2 != len(v) {
		return 0, 0, fmt.Errorf("chunkstore: corrupt location record")
	}
	return int64(o), int64(l), nil
}

// refRec describes one indexed file or partial: kind ‖ uvarint name
// length ‖ name ‖ uvarint size ‖ uvarint piece size ‖ (kindStamped:
// varint mtime) ‖ the first hashPrefixLen bytes of each piece hash. name
// and prefixes alias the buffer they were decoded from. The stamp (size,
// mtime) is that of the file when its pieces were hashed.
type refRec struct {
	kind      byte
	name      []byte
	size      int64
	pieceSize int64
	mtime     int64  // kindStamped only
	prefixes  []byte // len = hashPrefixLen * piece count
}

func (r *refRec) pieceCount() int { return len(r.prefixes) / hashPrefixLen }

func (r *refRec) prefix(i int) []byte {
	return r.prefixes[i*hashPrefixLen : (i+1)*hashPrefixLen]
}

// distinctPrefixes returns the record's hash prefixes without repeats (a
// file of many equal pieces, or prefixes shared by chance, is looked up
// once per prefix: each lookup finds every piece key with it).
func (r *refRec) distinctPrefixes() [][]byte {
	n := r.pieceCount()
	out := make([][]byte, 0, n)
	seen := make(map[[hashPrefixLen]byte]bool, n)
	for i := range n {
		p := r.prefix(i)
		if k := [hashPrefixLen]byte(p); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// stamped reports whether the record is of a complete file with a stamp.
func (r *refRec) stamped() bool { return r.kind == kindStamped }

func encodeRef(r refRec) []byte {
	b := make([]byte, 0, 1+4*binary.MaxVarintLen64+len(r.name)+len(r.prefixes))
	b = append(b, r.kind)
	b = binary.AppendUvarint(b, uint64(len(r.name)))
	b = append(b, r.name...)
	b = binary.AppendUvarint(b, uint64(r.size))
	b = binary.AppendUvarint(b, uint64(r.pieceSize))
	if r.kind == kindStamped {
		b = binary.AppendVarint(b, r.mtime)
	}
	return append(b, r.prefixes...)
}

func decodeRef(v []byte) (refRec, error) {
	bad := fmt.Errorf("chunkstore: corrupt ref record")
	r, v, ok := decodeRefHead(v)
	if !ok || (r.kind != kindFile && r.kind != kindStamped && r.kind != kindPartial) {
		return r, bad
	}
	if r.kind == kindStamped {
		var k int
		if r.mtime, k = binary.Varint(v); k <= 0 {
			return r, bad
		}
		v = v[k:]
	}
	r.prefixes = v
	if len(r.prefixes)%hashPrefixLen != 0 || r.pieceCount() != manifest.PieceCount(r.size, r.pieceSize) {
		return r, bad
	}
	if r.kind == kindPartial && len(r.name) != manifest.IDSize {
		return r, bad
	}
	return r, nil
}

// decodeRefHead decodes the head every ref record has, in this schema and
// in schema 1: kind ‖ uvarint name length ‖ name ‖ uvarint size ‖ uvarint
// piece size. It returns the rest; the kind is not checked.
func decodeRefHead(v []byte) (r refRec, rest []byte, ok bool) {
	if len(v) < 1 {
		return r, nil, false
	}
	r.kind, v = v[0], v[1:]
	n, k := binary.Uvarint(v)
	if k <= 0 || n > uint64(len(v)-k) {
		return r, nil, false
	}
	r.name, v = v[k:k+int(n)], v[k+int(n):]
	size, k := binary.Uvarint(v)
	if k <= 0 {
		return r, nil, false
	}
	v = v[k:]
	ps, k := binary.Uvarint(v)
	if k <= 0 || ps == 0 || ps > manifest.MaxPieceSize || size > 1<<62 {
		return r, nil, false
	}
	r.size, r.pieceSize = int64(size), int64(ps)
	return r, v[k:], true
}

// fileRec is the ref record of the complete file m at the folder-relative
// path rel, with its stamp if m has a modification time.
func fileRec(rel string, m *manifest.Manifest) refRec {
	r := refRec{kind: kindFile, name: []byte(rel), size: m.Size, pieceSize: m.PieceSize, prefixes: prefixesOf(m)}
	if m.ModTime != 0 {
		r.kind, r.mtime = kindStamped, m.ModTime
	}
	return r
}

func prefixesOf(m *manifest.Manifest) []byte {
	b := make([]byte, 0, len(m.Pieces)*hashPrefixLen)
	for i := range m.Pieces {
		b = append(b, m.Pieces[i].Hash[:hashPrefixLen]...)
	}
	return b
}

// partial record: ref (8 bytes big-endian) ‖ bitmap of durable pieces ‖
// progress (8 bytes big-endian: Unix nanoseconds of the last time pieces
// became durable; see CollectPartials). Records written before progress
// was recorded lack it and decode with progress 0 (unknown). The format is
// that of schema 1 (a migration copies these records as they are).
const refKeyLen = 8

func encodePartialRec(ref uint64, durable bitset, progress int64) []byte {
	b := make([]byte, 0, 2*refKeyLen+len(durable))
	b = binary.BigEndian.AppendUint64(b, ref)
	b = append(b, durable...)
	return binary.BigEndian.AppendUint64(b, uint64(progress))
}

func decodePartialRec(v []byte, pieces int) (ref uint64, durable bitset, progress int64, err error) {
	n := refKeyLen + bitsetLen(pieces)
	switch len(v) {
	case n:
	case n + 8:
		progress = int64(binary.BigEndian.Uint64(v[n:]))
	default:
		return 0, nil, 0, fmt.Errorf("chunkstore: corrupt partial record")
	}
	durable = newBitset(pieces)
	copy(durable, v[refKeyLen:n])
	return binary.BigEndian.Uint64(v), durable, progress, nil
}

// bitset is a fixed-size set of piece indexes.
type bitset []byte

func bitsetLen(n int) int       { return (n + 7) / 8 }
func newBitset(n int) bitset    { return make(bitset, bitsetLen(n)) }
func (b bitset) get(i int) bool { return b[i>>3]&(1<<(i&7)) != 0 }
func (b bitset) set(i int)      { b[i>>3] |= 1 << (i & 7) }
func (b bitset) clear(i int)    { b[i>>3] &^= 1 << (i & 7) }
func (b bitset) clone() bitset  { return append(bitset(nil), b...) }
