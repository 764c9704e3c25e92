package chunkstore

import (
	"encoding/binary"
	"fmt"

	"github.com/dartsync/dartsync/manifest"
)

// Bucket names and the schema version stored in the meta bucket.
var (
	bucketMeta     = []byte("meta")
	bucketPieces   = []byte("pieces")
	bucketRefs     = []byte("refs")
	bucketFiles    = []byte("files")
	bucketPartials = []byte("partials")
	bucketStamps   = []byte("stamps")

	keyVersion = []byte("version")
)

const schemaVersion = 1

// Kinds of ref records.
const (
	kindFile    byte = 'f' // name is the folder-relative path
	kindPartial byte = 'p' // name is the 32-byte file ID
)

const refKeyLen = 8

func refKey(ref uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, refKeyLen), ref)
}

// pieceKey is H‖ref; all locations of H are adjacent in the bucket.
func pieceKey(h manifest.ID, ref uint64) []byte {
	k := make([]byte, 0, manifest.IDSize+refKeyLen)
	k = append(k, h[:]...)
	return binary.BigEndian.AppendUint64(k, ref)
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

// refRec describes one indexed file or partial. name and hashes alias the
// buffer they were decoded from (valid only inside the transaction).
type refRec struct {
	kind      byte
	name      []byte
	size      int64
	pieceSize int64
	hashes    []byte // len = 32 * piece count
}

func (r *refRec) pieceCount() int { return len(r.hashes) / manifest.IDSize }

func (r *refRec) hash(i int) manifest.ID {
	return manifest.ID(r.hashes[i*manifest.IDSize : (i+1)*manifest.IDSize])
}

func encodeRef(r refRec) []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(r.name)+len(r.hashes))
	b = append(b, r.kind)
	b = binary.AppendUvarint(b, uint64(len(r.name)))
	b = append(b, r.name...)
	b = binary.AppendUvarint(b, uint64(r.size))
	b = binary.AppendUvarint(b, uint64(r.pieceSize))
	return append(b, r.hashes...)
}

func decodeRef(v []byte) (refRec, error) {
	bad := fmt.Errorf("chunkstore: corrupt ref record")
	var r refRec
	if len(v) < 1 {
		return r, bad
	}
	r.kind, v = v[0], v[1:]
	if r.kind != kindFile && r.kind != kindPartial {
		return r, bad
	}
	n, k := binary.Uvarint(v)
	if k <= 0 || n > uint64(len(v)-k) {
		return r, bad
	}
	r.name, v = v[k:k+int(n)], v[k+int(n):]
	size, k := binary.Uvarint(v)
	if k <= 0 {
		return r, bad
	}
	v = v[k:]
	ps, k := binary.Uvarint(v)
	if k <= 0 || ps == 0 || size > 1<<62 {
		return r, bad
	}
	r.size, r.pieceSize, r.hashes = int64(size), int64(ps), v[k:]
	if len(r.hashes)%manifest.IDSize != 0 || r.pieceCount() != manifest.PieceCount(r.size, r.pieceSize) {
		return r, bad
	}
	if r.kind == kindPartial && len(r.name) != manifest.IDSize {
		return r, bad
	}
	return r, nil
}

func hashesOf(m *manifest.Manifest) []byte {
	b := make([]byte, 0, len(m.Pieces)*manifest.IDSize)
	for i := range m.Pieces {
		b = append(b, m.Pieces[i].Hash[:]...)
	}
	return b
}

// stamp record (ref → size, modification time of the file when its pieces
// were hashed): uvarint size ‖ varint mtime in nanoseconds.
func encodeStamp(size, mtime int64) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64)
	b = binary.AppendUvarint(b, uint64(size))
	return binary.AppendVarint(b, mtime)
}

func decodeStamp(v []byte) (size, mtime int64, ok bool) {
	s, k := binary.Uvarint(v)
	if k <= 0 || s > 1<<62 {
		return 0, 0, false
	}
	t, k2 := binary.Varint(v[k:])
	if k2 <= 0 || k+k2 != len(v) {
		return 0, 0, false
	}
	return int64(s), t, true
}

// partial record: ref (8 bytes big-endian) ‖ bitmap of durable pieces ‖
// progress (8 bytes big-endian: Unix nanoseconds of the last time pieces
// became durable; see CollectPartials). Records written before progress
// was recorded lack it and decode with progress 0 (unknown).
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
