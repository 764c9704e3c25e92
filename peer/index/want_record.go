package index

import (
	"encoding/binary"
	"fmt"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// Want records: a want is stored as a head under prefixWants and, for a
// file with pieces, its piece list in chunks under prefixPieces
// (want_pieces.go), so that listing
// wants (WantsPage) reads heads only, however large the announced files
// (a manifest of 2^16 pieces is 2.25 MiB: Pebble reads a value whole).
//
//	head:   file ID [32]byte | seq u64 LE | n u32 LE | n × owner [32]byte |
//	        piece count u32 LE | flags u8 (record.go) | mtime i64 LE |
//	        live file: size uvarint | piece size uvarint | base [32]byte if recBase
//	pieces: count × (hash [32]byte | weak u32 LE)
//
// The file ID and seq lead, at the offsets of the bbolt layout (codec.go),
// for WantID and Done.
const wantFixed = manifest.IDSize + 8 + 4

func encodeWantRecord(w *Want) (head, pieces []byte, err error) {
	m := &w.Manifest
	if err := m.Validate(); err != nil {
		return nil, nil, fmt.Errorf("index: encode want %q: %w", m.Path, err)
	}
	head = make([]byte, wantFixed, wantFixed+32*len(w.Owners)+4+9+2*binary.MaxVarintLen64+32)
	copy(head, m.ID[:])
	binary.LittleEndian.PutUint64(head[32:], w.Seq)
	binary.LittleEndian.PutUint32(head[40:], uint32(len(w.Owners)))
	for _, o := range w.Owners {
		head = append(head, o[:]...)
	}
	head = binary.LittleEndian.AppendUint32(head, uint32(len(m.Pieces)))
	f := recordFlags(m)
	head = append(head, f)
	head = binary.LittleEndian.AppendUint64(head, uint64(m.ModTime))
	if !m.Deleted && m.Kind == manifest.KindFile {
		head = binary.AppendUvarint(head, uint64(m.Size))
		head = binary.AppendUvarint(head, uint64(m.PieceSize))
	}
	if f&recBase != 0 {
		head = append(head, m.Base[:]...)
	}
	if len(m.Pieces) > 0 {
		pieces = make([]byte, 0, 36*len(m.Pieces))
		for i := range m.Pieces {
			pieces = append(pieces, m.Pieces[i].Hash[:]...)
			pieces = binary.LittleEndian.AppendUint32(pieces, m.Pieces[i].Weak)
		}
	}
	return head, pieces, nil
}

// decodeWantRecord decodes a want head of path: Manifest.Pieces is nil,
// Pieces the count. Every error wraps ErrCorrupt.
func decodeWantRecord(path string, v []byte) (Want, error) {
	if len(v) < wantFixed {
		return Want{}, fmt.Errorf("%w: want %q of %d bytes", ErrCorrupt, path, len(v))
	}
	w := Want{Seq: binary.LittleEndian.Uint64(v[32:])}
	id := manifest.ID(v[:32])
	n := int(binary.LittleEndian.Uint32(v[40:]))
	r := recordReader{b: v[wantFixed:]}
	if n > len(r.b)/32 {
		return Want{}, fmt.Errorf("%w: want %q claims %d owners", ErrCorrupt, path, n)
	}
	w.Owners = make([]identity.DeviceID, n)
	for i := range w.Owners {
		copy(w.Owners[i][:], r.fixed(32, "owners"))
	}
	w.Pieces = int(binary.LittleEndian.Uint32(r.fixed(4, "piece count")))
	f := r.fixed(1, "flags")[0]
	m := manifest.Manifest{Path: path, ID: id, Deleted: f&recDeleted != 0, Exec: f&recExec != 0}
	if f&recDir != 0 {
		m.Kind = manifest.KindDir
	}
	m.ModTime = int64(binary.LittleEndian.Uint64(r.fixed(8, "mtime")))
	if !m.Deleted && m.Kind == manifest.KindFile {
		m.Size = int64(r.uvarint("size"))
		m.PieceSize = int64(r.uvarint("piece size"))
	}
	if f&recBase != 0 {
		m.Base = manifest.ID(r.fixed(manifest.IDSize, "base"))
	}
	if r.err != nil {
		return Want{}, fmt.Errorf("want %q: %w", path, r.err)
	}
	if len(r.b) != 0 {
		return Want{}, fmt.Errorf("%w: want %q: %d bytes after the record", ErrCorrupt, path, len(r.b))
	}
	if !m.Deleted && m.Kind == manifest.KindFile {
		if err := manifest.CheckPieceSize(m.PieceSize); err != nil {
			return Want{}, fmt.Errorf("%w: want %q: %w", ErrCorrupt, path, err)
		}
		if err := manifest.CheckSize(m.Size, m.PieceSize); err != nil || m.Size < 0 {
			return Want{}, fmt.Errorf("%w: want %q: size %d: %w", ErrCorrupt, path, m.Size, err)
		}
	}
	if want := manifest.PieceCount(m.Size, m.PieceSize); w.Pieces != want {
		return Want{}, fmt.Errorf("%w: want %q: %d pieces, its size has %d", ErrCorrupt, path, w.Pieces, want)
	}
	w.Manifest = m
	return w, nil
}

// wantWhole gives head w its piece list, and checks the file ID.
func wantWhole(w Want, pieces []byte) (Want, error) {
	m := &w.Manifest
	if len(pieces) != 36*w.Pieces {
		return Want{}, fmt.Errorf("%w: want %q: %d bytes of pieces for %d", ErrCorrupt, m.Path, len(pieces), w.Pieces)
	}
	if w.Pieces > 0 {
		m.Pieces = make([]manifest.Piece, w.Pieces)
		for i := range m.Pieces {
			copy(m.Pieces[i].Hash[:], pieces[36*i:])
			m.Pieces[i].Weak = binary.LittleEndian.Uint32(pieces[36*i+32:])
		}
	}
	if err := m.Validate(); err != nil {
		return Want{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return w, nil
}
