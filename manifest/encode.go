package manifest

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/manifest/manifestpb"
)

// Marshal validates m and returns its encoding: the deterministic protobuf
// form of manifestpb.Manifest (manifestpb/manifest.proto is the schema) with
// format = FormatVersion. Equal manifests give equal bytes.
func Marshal(m *Manifest) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(ToProto(m))
	if err != nil {
		return nil, fmt.Errorf("manifest: marshal %q: %w", truncate(m.Path), err)
	}
	return b, nil
}

// Unmarshal decodes and validates an encoding made by Marshal. Input longer
// than MaxEncodedSize is refused before decoding; every error wraps
// ErrCorrupt.
func Unmarshal(b []byte) (Manifest, error) {
	if len(b) > MaxEncodedSize {
		return Manifest{}, fmt.Errorf("%w: %w: %d bytes, at most %d", ErrCorrupt, ErrTooLarge, len(b), MaxEncodedSize)
	}
	var p manifestpb.Manifest
	if err := proto.Unmarshal(b, &p); err != nil {
		return Manifest{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return FromProto(&p)
}

// ToProto returns the wire form of m with format = FormatVersion. It does not
// validate m (Marshal does); other messages embed the result.
func ToProto(m *Manifest) *manifestpb.Manifest {
	p := &manifestpb.Manifest{
		Format:     FormatVersion,
		Path:       m.Path,
		Kind:       manifestpb.Kind(m.Kind),
		Deleted:    m.Deleted,
		Size:       uint64(m.Size),
		ModTimeNs:  m.ModTime,
		Executable: m.Exec,
		PieceSize:  uint32(m.PieceSize),
		FileId:     m.ID[:],
	}
	if !m.Base.IsZero() {
		p.Base = m.Base[:]
	}
	if len(m.Pieces) > 0 {
		p.PieceHashes = make([]byte, 0, IDSize*len(m.Pieces))
		p.PieceWeak = make([]uint32, len(m.Pieces))
		for i := range m.Pieces {
			p.PieceHashes = append(p.PieceHashes, m.Pieces[i].Hash[:]...)
			p.PieceWeak[i] = m.Pieces[i].Weak
		}
	}
	return p
}

// FromProto converts and validates a decoded manifest (see
// Manifest.Validate): known format version, counts and lengths consistent
// before anything is allocated, IDs of exactly 0 or 32 bytes, and the ID
// recomputed. Every error wraps ErrCorrupt.
func FromProto(p *manifestpb.Manifest) (Manifest, error) {
	m, err := fromProto(p)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return m, nil
}

func fromProto(p *manifestpb.Manifest) (Manifest, error) {
	if p == nil {
		return Manifest{}, fmt.Errorf("missing manifest")
	}
	if p.Format != FormatVersion {
		return Manifest{}, fmt.Errorf("format version %d, this build reads %d", p.Format, FormatVersion)
	}
	if p.Size > MaxFileSize {
		return Manifest{}, fmt.Errorf("%w: size %d, at most %d (MaxFileSize)", ErrTooLarge, p.Size, int64(MaxFileSize))
	}
	if p.Kind != manifestpb.Kind_KIND_FILE && p.Kind != manifestpb.Kind_KIND_DIR {
		return Manifest{}, fmt.Errorf("unknown kind %d", p.Kind)
	}
	count := len(p.PieceWeak)
	if count > MaxPieces {
		return Manifest{}, fmt.Errorf("%w: %d pieces, at most %d (MaxPieces)", ErrTooLarge, count, MaxPieces)
	}
	if len(p.PieceHashes) != IDSize*count {
		return Manifest{}, fmt.Errorf("%d bytes of piece hashes for %d weak sums, want %d", len(p.PieceHashes), count, IDSize*count)
	}
	id, err := IDFromBytes(p.FileId)
	if err != nil {
		return Manifest{}, fmt.Errorf("file id: %w", err)
	}
	base, err := IDFromBytes(p.Base)
	if err != nil {
		return Manifest{}, fmt.Errorf("base: %w", err)
	}
	m := Manifest{
		Path:      p.Path,
		Kind:      Kind(p.Kind),
		Deleted:   p.Deleted,
		Size:      int64(p.Size),
		ModTime:   p.ModTimeNs,
		Exec:      p.Executable,
		PieceSize: int64(p.PieceSize),
		ID:        id,
		Base:      base,
	}
	if count > 0 {
		m.Pieces = make([]Piece, count)
		for i := range m.Pieces {
			copy(m.Pieces[i].Hash[:], p.PieceHashes[i*IDSize:])
			m.Pieces[i].Weak = p.PieceWeak[i]
		}
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}
