package chunkstore

import (
	"encoding/binary"

	"github.com/dartsync/dartsync/manifest"
)

// decodeV1Ref decodes a schema 1 ref record (kind ‖ uvarint name length ‖
// name ‖ uvarint size ‖ uvarint piece size ‖ full piece hashes) into a
// record of this schema (hash prefixes, no stamp yet).
func decodeV1Ref(v []byte) (refRec, bool) {
	r, v, ok := decodeRefHead(v)
	if !ok || (r.kind != kindFile && r.kind != kindPartial) {
		return r, false
	}
	count := manifest.PieceCount(r.size, r.pieceSize)
	if len(v) != count*manifest.IDSize || (r.kind == kindPartial && len(r.name) != manifest.IDSize) {
		return r, false
	}
	r.prefixes = make([]byte, 0, count*hashPrefixLen)
	for i := range count {
		r.prefixes = append(r.prefixes, v[i*manifest.IDSize:i*manifest.IDSize+hashPrefixLen]...)
	}
	return r, true
}

// decodeV1Stamp decodes a schema 1 stamp record: uvarint size ‖ varint
// mtime in nanoseconds.
func decodeV1Stamp(v []byte) (size, mtime int64, ok bool) {
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
