package tracker

import (
	"fmt"
	"path"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/dartsync/dartsync/manifest/manifestpb"
)

// entrySummary is what the aggregates (aggregate.go) need of one row of the
// files table, read without decoding the manifest's pieces.
type entrySummary struct {
	seq     uint64
	owners  []uint32
	author  uint32
	dir     bool
	deleted bool
	size    uint64
	modTime int64
	fileID  string
}

// live reports whether the row is a file that exists (not a directory, not
// a tombstone): what "files" and "bytes" count.
func (e *entrySummary) live() bool { return !e.deleted && !e.dir }

// Field numbers read by summarize (trackerpb.EntryRecord and
// manifestpb.Manifest; TestSummarizeFields checks them against the schemas).
const (
	entryRecordFieldSeq     protowire.Number = 1
	entryRecordFieldOwners  protowire.Number = 2
	entryRecordFieldAuthor  protowire.Number = 3
	manifestFieldKind       protowire.Number = 3
	manifestFieldDeleted    protowire.Number = 4
	manifestFieldSize       protowire.Number = 5
	manifestFieldModTime    protowire.Number = 6
	manifestKindDir         uint64           = uint64(manifestpb.Kind_KIND_DIR)
	errCorruptRecordSummary                  = "corrupt record"
)

// summarize reads an encoded trackerpb.EntryRecord. It never panics on bad
// input: a malformed record is an error.
func summarize(rb []byte) (entrySummary, error) {
	var e entrySummary
	var mb []byte
	err := eachField(rb, func(n protowire.Number, typ protowire.Type, v uint64, b []byte) error {
		switch {
		case n == entryRecordFieldSeq && typ == protowire.VarintType:
			e.seq = v
		case n == entryRecordFieldAuthor && typ == protowire.VarintType:
			e.author = uint32(v)
		case n == entryRecordFieldOwners && typ == protowire.VarintType:
			e.owners = append(e.owners, uint32(v))
		case n == entryRecordFieldOwners && typ == protowire.BytesType:
			for len(b) > 0 {
				o, l := protowire.ConsumeVarint(b)
				if l < 0 {
					return protowire.ParseError(l)
				}
				e.owners = append(e.owners, uint32(o))
				b = b[l:]
			}
		case n == entryRecordFieldManifest && typ == protowire.BytesType:
			mb = b
		}
		return nil
	})
	if err != nil {
		return entrySummary{}, err
	}
	err = eachField(mb, func(n protowire.Number, typ protowire.Type, v uint64, b []byte) error {
		switch {
		case n == manifestFieldKind && typ == protowire.VarintType:
			e.dir = v == manifestKindDir
		case n == manifestFieldDeleted && typ == protowire.VarintType:
			e.deleted = v != 0
		case n == manifestFieldSize && typ == protowire.VarintType:
			e.size = v
		case n == manifestFieldModTime && typ == protowire.VarintType:
			e.modTime = int64(v)
		case n == manifestFieldFileID && typ == protowire.BytesType:
			e.fileID = string(b)
		}
		return nil
	})
	if err != nil {
		return entrySummary{}, err
	}
	return e, nil
}

// eachField calls fn for every field of the encoded message b: varints with
// their value, length-delimited fields with their bytes (aliasing b).
func eachField(b []byte, fn func(n protowire.Number, typ protowire.Type, v uint64, b []byte) error) error {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return fmt.Errorf("%s: %w", errCorruptRecordSummary, protowire.ParseError(l))
		}
		b = b[l:]
		var v uint64
		var bs []byte
		switch typ {
		case protowire.VarintType:
			v, l = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			bs, l = protowire.ConsumeBytes(b)
		default:
			l = protowire.ConsumeFieldValue(n, typ, b)
		}
		if l < 0 {
			return fmt.Errorf("%s: %w", errCorruptRecordSummary, protowire.ParseError(l))
		}
		b = b[l:]
		if err := fn(n, typ, v, bs); err != nil {
			return fmt.Errorf("%s: %w", errCorruptRecordSummary, err)
		}
	}
	return nil
}

// IsConflictCopy reports whether p's base name carries the mark
// ConflictName gives a conflict copy: ".sync-conflict-YYYYMMDD-HHMMSS-".
func IsConflictCopy(p string) bool {
	const mark = ".sync-conflict-"
	base := path.Base(p)
	for {
		i := strings.Index(base, mark)
		if i < 0 {
			return false
		}
		base = base[i+len(mark):]
		if stampAt(base) {
			return true
		}
	}
}

// stampAt reports whether s starts with "YYYYMMDD-HHMMSS-" (digits).
func stampAt(s string) bool {
	const shape = "dddddddd-dddddd-"
	if len(s) < len(shape) {
		return false
	}
	for i := range len(shape) {
		if shape[i] == 'd' && (s[i] < '0' || s[i] > '9') || shape[i] == '-' && s[i] != '-' {
			return false
		}
	}
	return true
}
