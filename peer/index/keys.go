package index

import (
	"bytes"
	"encoding/binary"
)

// One-byte key prefixes, one per record kind (the buckets of the bbolt
// index this store replaces); see doc.go for the layouts.
const (
	prefixFiles   = 'f'
	prefixWants   = 'w'
	prefixMeta    = 'm'
	prefixHistory = 'h'
	prefixUnacked = 'u'
	prefixPieces  = 'p' // piece lists of wants (want_record.go)
)

// Meta record names (after prefixMeta).
var (
	metaSchema  = metaKey("schema")  // schema version, 1 byte; written last by a migration
	metaSeq     = metaKey("seq")     // Seq, 8 bytes big-endian
	metaTracker = metaKey("tracker") // Membership (codec.go)
	metaEpoch   = metaKey("epoch")   // Epoch, 16 bytes
	metaHeard   = metaKey("heard")   // Heard, 8 bytes big-endian
	metaCount   = metaKey("count")   // entries, live entries: 8 bytes big-endian each
	metaHistSeq = metaKey("hseq")    // last history counter, 8 bytes big-endian
	metaUnacked = metaKey("unacked") // paths with unacked reports, 8 bytes big-endian
)

// schemaVersion is the version of this layout, stored in metaSchema.
const schemaVersion = 1

func metaKey(name string) []byte { return append([]byte{prefixMeta}, name...) }

// pathKey returns prefix followed by path with every '/' encoded as 0x00.
// Names never hold NUL, so byte order of the keys is walk order of the
// paths (ComparePaths): the separator sorts below every byte a name holds.
func pathKey(prefix byte, path string) []byte {
	k := make([]byte, 1+len(path), 1+len(path)+historyTail)
	k[0] = prefix
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '/' {
			c = 0
		}
		k[1+i] = c
	}
	return k
}

// keyPath decodes the path of a key made by pathKey.
func keyPath(k []byte) string {
	b := []byte(string(k[1:]))
	for i, c := range b {
		if c == 0 {
			b[i] = '/'
		}
	}
	return string(b)
}

// History keys: prefixHistory, the encoded path, 0x00 0x00, then the
// counter (8 bytes big-endian). An encoded path never holds two 0x00 in a
// row nor ends in one (a clean path has no "//" and no trailing '/'), so
// the keys of one path are exactly those under its historyPrefix and never
// those of a path below it ("a" and "a/b" are "a\0\0…" and "a\0b\0\0…").
const historyTail = 2 + 8

func historyPrefix(path string) []byte { return append(pathKey(prefixHistory, path), 0, 0) }

func historyKey(path string, n uint64) []byte {
	return binary.BigEndian.AppendUint64(historyPrefix(path), n)
}

// keyUpper is the upper bound of the keys of prefix p.
func keyUpper(p byte) []byte { return []byte{p + 1} }

// u64 and putU64 read and write the 8-byte big-endian meta values.
func u64(v []byte) uint64 {
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putU64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// hasPrefix is bytes.HasPrefix, for iterators bounded by a prefix.
func hasPrefix(k, p []byte) bool { return bytes.HasPrefix(k, p) }
