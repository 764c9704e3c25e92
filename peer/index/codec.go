package index

import (
	"encoding/binary"
	"fmt"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/scan"
)

// Record layouts (all integers little-endian); entry and old entry are
// those of the bbolt index, read by the migration only (record.go has the
// store's entry record):
//
//	entry:      size i64 | mtime i64 | inode u64 | statExt | ctime i64 | manifest (manifest.Marshal)
//	old entry:  size i64 | mtime i64 | inode u64 | manifest (ctime unknown: 0)
//	want:       file ID [32]byte | seq u64 | n u32 | n × owner [32]byte | manifest (manifest.Marshal)
//	membership: tracker [32]byte | piece size i64 | address (rest)
//
// An entry is told from an old entry by its 25th byte: a manifest encoding
// (protobuf) never starts with statExt, which is the tag of field number 0.

// statExt marks an entry record that carries the ctime (see the layouts).
const statExt = 0x00

// entryHead is the length of an entry record before its manifest.
const entryHead = 24 + 1 + 8

// decodeEntry decodes an entry record of the bbolt index (either layout),
// for the migration.
func decodeEntry(b []byte) (Entry, error) {
	if len(b) < 24 {
		return Entry{}, fmt.Errorf("%w: entry of %d bytes", ErrCorrupt, len(b))
	}
	st := scan.Stat{
		Size:    int64(binary.LittleEndian.Uint64(b[0:])),
		ModTime: int64(binary.LittleEndian.Uint64(b[8:])),
		Inode:   binary.LittleEndian.Uint64(b[16:]),
	}
	mb := b[24:]
	if len(mb) > 0 && mb[0] == statExt {
		if len(b) < entryHead {
			return Entry{}, fmt.Errorf("%w: entry of %d bytes", ErrCorrupt, len(b))
		}
		st.Ctime = int64(binary.LittleEndian.Uint64(b[25:]))
		mb = b[entryHead:]
	}
	m, err := manifest.Unmarshal(mb)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return Entry{Manifest: m, Stat: st}, nil
}

func encodeWant(w *Want) ([]byte, error) {
	mb, err := manifest.Marshal(&w.Manifest)
	if err != nil {
		return nil, fmt.Errorf("index: encode want %q: %w", w.Manifest.Path, err)
	}
	b := make([]byte, 44, 44+32*len(w.Owners)+len(mb))
	copy(b, w.Manifest.ID[:])
	binary.LittleEndian.PutUint64(b[32:], w.Seq)
	binary.LittleEndian.PutUint32(b[40:], uint32(len(w.Owners)))
	for _, o := range w.Owners {
		b = append(b, o[:]...)
	}
	return append(b, mb...), nil
}

// decodeWant decodes a whole want; decodeWantHead one without its piece
// list.
func decodeWant(b []byte) (Want, error) { return decodeWantWith(b, false) }

func decodeWantHead(b []byte) (Want, error) { return decodeWantWith(b, true) }

func decodeWantWith(b []byte, head bool) (Want, error) {
	if len(b) < 44 {
		return Want{}, fmt.Errorf("%w: want of %d bytes", ErrCorrupt, len(b))
	}
	id := manifest.ID(b[:32])
	w := Want{Seq: binary.LittleEndian.Uint64(b[32:])}
	n := int(binary.LittleEndian.Uint32(b[40:]))
	b = b[44:]
	if n > len(b)/32 {
		return Want{}, fmt.Errorf("%w: want claims %d owners", ErrCorrupt, n)
	}
	w.Owners = make([]identity.DeviceID, n)
	for i := range w.Owners {
		copy(w.Owners[i][:], b[32*i:])
	}
	var m manifest.Manifest
	var err error
	if head {
		m, w.Pieces, err = manifest.UnmarshalHead(b[32*n:])
	} else {
		m, err = manifest.Unmarshal(b[32*n:])
		w.Pieces = len(m.Pieces)
	}
	if err != nil {
		return Want{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if m.ID != id {
		return Want{}, fmt.Errorf("%w: want key %s for manifest %s", ErrCorrupt, id.Short(), m.ID.Short())
	}
	w.Manifest = m
	return w, nil
}

func encodeMembership(m *Membership) []byte {
	b := make([]byte, 40, 40+len(m.Addr))
	copy(b, m.Tracker[:])
	binary.LittleEndian.PutUint64(b[32:], uint64(m.PieceSize))
	return append(b, m.Addr...)
}

func decodeMembership(b []byte) (Membership, error) {
	if len(b) < 40 {
		return Membership{}, fmt.Errorf("%w: membership of %d bytes", ErrCorrupt, len(b))
	}
	var m Membership
	copy(m.Tracker[:], b)
	m.PieceSize = int64(binary.LittleEndian.Uint64(b[32:]))
	m.Addr = string(b[40:])
	return m, nil
}
