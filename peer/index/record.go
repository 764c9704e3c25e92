package index

import (
	"encoding/binary"
	"fmt"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// Entry records, the values under prefixFiles (the key is the path, so the
// record does not repeat it; nor the file ID, which the rest determines):
//
//	flags u8 | mtime i64 LE
//	live file: size uvarint | piece size uvarint | n × (hash [32]byte | weak u32 LE),
//	           n = manifest.PieceCount(size, piece size)
//	base [32]byte             if recBase
//	stat size uvarint         unless recStatNone or recStatSize
//	stat mtime i64 LE         unless recStatNone or recStatMtime
//	inode uvarint | ctime − stat mtime varint   unless recStatNone
//
// A single-piece file costs 1+8+3+3+36+4+1 bytes and its key.
const (
	recDeleted   = 1 << 0
	recDir       = 1 << 1
	recExec      = 1 << 2
	recBase      = 1 << 3
	recStatNone  = 1 << 4 // the Stat is zero
	recStatSize  = 1 << 5 // the Stat's size is the manifest's
	recStatMtime = 1 << 6 // the Stat's mtime is the manifest's
)

// encodeRecord validates e's manifest (as manifest.Marshal did) and
// returns its record.
func encodeRecord(e *Entry) ([]byte, error) {
	m := &e.Manifest
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("index: encode %q: %w", m.Path, err)
	}
	f := recordFlags(m)
	st := e.Stat
	switch {
	case st == scan.Stat{}:
		f |= recStatNone
	default:
		if st.Size == m.Size {
			f |= recStatSize
		}
		if st.ModTime == m.ModTime {
			f |= recStatMtime
		}
	}
	b := make([]byte, 0, 9+2*binary.MaxVarintLen64+36*len(m.Pieces)+32+3*binary.MaxVarintLen64+8)
	b = append(b, f)
	b = binary.LittleEndian.AppendUint64(b, uint64(m.ModTime))
	if !m.Deleted && m.Kind == manifest.KindFile {
		b = binary.AppendUvarint(b, uint64(m.Size))
		b = binary.AppendUvarint(b, uint64(m.PieceSize))
		for i := range m.Pieces {
			b = append(b, m.Pieces[i].Hash[:]...)
			b = binary.LittleEndian.AppendUint32(b, m.Pieces[i].Weak)
		}
	}
	if f&recBase != 0 {
		b = append(b, m.Base[:]...)
	}
	if f&recStatNone == 0 {
		if f&recStatSize == 0 {
			b = binary.AppendUvarint(b, uint64(st.Size))
		}
		if f&recStatMtime == 0 {
			b = binary.LittleEndian.AppendUint64(b, uint64(st.ModTime))
		}
		b = binary.AppendUvarint(b, st.Inode)
		b = binary.AppendVarint(b, st.Ctime-st.ModTime)
	}
	return b, nil
}

// recordReader consumes a record, remembering the first error.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: entry record cut in its %s", ErrCorrupt, what)
	}
	r.b = nil
}

func (r *recordReader) fixed(n int, what string) []byte {
	if len(r.b) < n {
		r.fail(what)
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *recordReader) uvarint(what string) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint(what string) int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// decodeRecord decodes the record v of path; the file ID is recomputed
// from what the record holds. Every error wraps ErrCorrupt.
func decodeRecord(path string, v []byte) (Entry, error) {
	var e Entry
	if err := decodeRecordTo(&e, v, nil); err != nil {
		return Entry{}, fmt.Errorf("%q: %w", path, err)
	}
	e.Manifest.Path = path
	return e, nil
}

// decodeRecordTo decodes record v into e, all but the path (left as it
// is). The piece list is taken from slab (nil: allocated for e alone), or,
// with a heads slab, not decoded at all: Manifest.Pieces stays nil and the
// file ID is computed from the record's bytes. Every error wraps
// ErrCorrupt and does not name the path.
func decodeRecordTo(e *Entry, v []byte, slab *pieceSlab) error {
	r := recordReader{b: v}
	f := r.fixed(1, "flags")[0]
	m := manifest.Manifest{Path: e.Manifest.Path, Deleted: f&recDeleted != 0, Exec: f&recExec != 0}
	if f&recDir != 0 {
		m.Kind = manifest.KindDir
	}
	m.ModTime = int64(binary.LittleEndian.Uint64(r.fixed(8, "mtime")))
	var raw []byte // the piece list's bytes
	if !m.Deleted && m.Kind == manifest.KindFile {
		m.Size = int64(r.uvarint("size"))
		m.PieceSize = int64(r.uvarint("piece size"))
		if r.err == nil {
			if err := manifest.CheckPieceSize(m.PieceSize); err != nil {
				return fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			if err := manifest.CheckSize(m.Size, m.PieceSize); err != nil || m.Size < 0 {
				return fmt.Errorf("%w: size %d: %w", ErrCorrupt, m.Size, err)
			}
		}
		if n := manifest.PieceCount(m.Size, m.PieceSize); n > 0 && r.err == nil {
			if len(r.b) < 36*n {
				r.fail("pieces")
			} else {
				raw = r.b[:36*n]
				r.b = r.b[36*n:]
				if !slab.heads() {
					m.Pieces = slab.take(n)
					for i := range m.Pieces {
						copy(m.Pieces[i].Hash[:], raw[36*i:])
						m.Pieces[i].Weak = binary.LittleEndian.Uint32(raw[36*i+32:])
					}
				}
			}
		}
	}
	if f&recBase != 0 {
		m.Base = manifest.ID(r.fixed(manifest.IDSize, "base"))
	}
	var st scan.Stat
	if f&recStatNone == 0 {
		st.Size, st.ModTime = m.Size, m.ModTime
		if f&recStatSize == 0 {
			st.Size = int64(r.uvarint("stat size"))
		}
		if f&recStatMtime == 0 {
			st.ModTime = int64(binary.LittleEndian.Uint64(r.fixed(8, "stat mtime")))
		}
		st.Inode = r.uvarint("inode")
		st.Ctime = st.ModTime + r.varint("ctime")
	}
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %d bytes after the entry record", ErrCorrupt, len(r.b))
	}
	switch {
	case m.Deleted:
		if m.Base.IsZero() {
			return fmt.Errorf("%w: tombstone without a base", ErrCorrupt)
		}
		m.ID = manifest.TombstoneID(m.Base)
	case m.Kind == manifest.KindDir:
		m.ID = manifest.DirID()
	case m.Pieces == nil && len(raw) > 0:
		m.ID = recordFileID(m.Size, m.PieceSize, raw)
	default:
		m.ID = manifest.FileID(m.Size, m.PieceSize, m.Pieces)
	}
	*e = Entry{Manifest: m, Stat: st}
	return nil
}

// recordLive reports whether record v is of a live entry (not a tombstone).
func recordLive(v []byte) bool { return len(v) > 0 && v[0]&recDeleted == 0 }

// recordFlags are the flag bits of m shared by entry and want records.
func recordFlags(m *manifest.Manifest) byte {
	var f byte
	if m.Deleted {
		f |= recDeleted
	}
	if m.Kind == manifest.KindDir {
		f |= recDir
	}
	if m.Exec {
		f |= recExec
	}
	if !m.Base.IsZero() {
		f |= recBase
	}
	return f
}
