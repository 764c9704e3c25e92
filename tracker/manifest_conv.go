package tracker

import (
	"fmt"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/manifest/manifestpb"
)

// manifestToPB and manifestFromPB are the tracker's only conversions of
// manifests to and from their schema. They delegate to the manifest package
// when its encoding lands; until then they carry the same checks.
func manifestToPB(m *manifest.Manifest) *manifestpb.Manifest {
	p := &manifestpb.Manifest{
		Format:     1,
		Path:       m.Path,
		Kind:       manifestpb.Kind(m.Kind),
		Deleted:    m.Deleted,
		Size:       uint64(m.Size),
		ModTimeNs:  m.ModTime,
		Executable: m.Exec,
		PieceSize:  uint32(m.PieceSize),
	}
	if !m.ID.IsZero() {
		p.FileId = append([]byte(nil), m.ID[:]...)
	}
	if !m.Base.IsZero() {
		p.Base = append([]byte(nil), m.Base[:]...)
	}
	if len(m.Pieces) > 0 {
		p.PieceHashes = make([]byte, 0, len(m.Pieces)*manifest.IDSize)
		p.PieceWeak = make([]uint32, 0, len(m.Pieces))
		for _, pc := range m.Pieces {
			p.PieceHashes = append(p.PieceHashes, pc.Hash[:]...)
			p.PieceWeak = append(p.PieceWeak, pc.Weak)
		}
	}
	return p
}

func manifestFromPB(p *manifestpb.Manifest) (manifest.Manifest, error) {
	if p == nil {
		return manifest.Manifest{}, fmt.Errorf("manifest missing")
	}
	if p.Format != 1 {
		return manifest.Manifest{}, fmt.Errorf("manifest format %d, want 1", p.Format)
	}
	if err := manifest.ValidatePath(p.Path); err != nil {
		return manifest.Manifest{}, err
	}
	m := manifest.Manifest{
		Path:      p.Path,
		Kind:      manifest.Kind(p.Kind),
		Deleted:   p.Deleted,
		Size:      int64(p.Size),
		ModTime:   p.ModTimeNs,
		Exec:      p.Executable,
		PieceSize: int64(p.PieceSize),
	}
	var err error
	if m.ID, err = manifest.IDFromBytes(p.FileId); err != nil {
		return manifest.Manifest{}, fmt.Errorf("%q: file ID: %w", p.Path, err)
	}
	if m.Base, err = manifest.IDFromBytes(p.Base); err != nil {
		return manifest.Manifest{}, fmt.Errorf("%q: base: %w", p.Path, err)
	}
	if m.Kind != manifest.KindFile && m.Kind != manifest.KindDir {
		return manifest.Manifest{}, fmt.Errorf("%q: unknown kind %d", p.Path, p.Kind)
	}
	if m.Size < 0 {
		return manifest.Manifest{}, fmt.Errorf("%q: size out of range", p.Path)
	}
	if m.Kind == manifest.KindDir || m.Deleted {
		if m.Size != 0 || len(p.PieceHashes) != 0 || len(p.PieceWeak) != 0 {
			return manifest.Manifest{}, fmt.Errorf("%q: directory or tombstone with content", p.Path)
		}
		return m, nil
	}
	if m.PieceSize < manifest.MinPieceSize || m.PieceSize > manifest.MaxPieceSize {
		return manifest.Manifest{}, fmt.Errorf("%q: piece size %d out of range", p.Path, m.PieceSize)
	}
	n := manifest.PieceCount(m.Size, m.PieceSize)
	if len(p.PieceHashes) != n*manifest.IDSize || len(p.PieceWeak) != n {
		return manifest.Manifest{}, fmt.Errorf("%q: %d bytes of hashes and %d weak sums for %d pieces", p.Path, len(p.PieceHashes), len(p.PieceWeak), n)
	}
	m.Pieces = make([]manifest.Piece, n)
	for i := range m.Pieces {
		copy(m.Pieces[i].Hash[:], p.PieceHashes[i*manifest.IDSize:])
		m.Pieces[i].Weak = p.PieceWeak[i]
	}
	if id := manifest.FileID(m.Size, m.PieceSize, m.Pieces); id != m.ID {
		return manifest.Manifest{}, fmt.Errorf("%q: file ID does not match the pieces", p.Path)
	}
	return m, nil
}
