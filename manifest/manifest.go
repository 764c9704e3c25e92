package manifest

import (
	"encoding/binary"
	"time"

	"github.com/zeebo/blake3"
)

// DefaultPieceSize is the piece size used when none is configured (1 MiB).
const DefaultPieceSize = 1 << 20

// Limits on piece sizes accepted anywhere (building or decoding).
const (
	MinPieceSize = 4 << 10
	MaxPieceSize = 16 << 20
)

// Kind says whether a manifest describes a regular file or a directory.
type Kind uint8

const (
	KindFile Kind = iota
	KindDir
)

// Piece is one piece of a file: the BLAKE3-256 hash of its bytes and its
// rsync-style weak checksum (see WeakSum).
type Piece struct {
	Hash ID
	Weak uint32
}

// Manifest is one version of one path. See the package documentation.
//
// The piece list of a built or decoded manifest is never changed in place
// (the ID names that content), so copies of a Manifest share Pieces: a
// million-piece file's list is 36 MB. Code that needs other pieces builds a
// new slice.
type Manifest struct {
	Path      string
	Kind      Kind
	Deleted   bool
	Size      int64
	ModTime   int64 // nanoseconds since the Unix epoch
	Exec      bool
	PieceSize int64
	Pieces    []Piece
	ID        ID // file ID of this version
	Base      ID // file ID this version replaced; zero for a new path
}

// Time returns the modification time as a time.Time.
func (m *Manifest) Time() time.Time { return time.Unix(0, m.ModTime) }

// PieceLen returns the length of piece i of m.
func (m *Manifest) PieceLen(i int) int64 {
	return PieceLen(m.Size, m.PieceSize, i)
}

// PieceOffset returns the byte offset of piece i of m.
func (m *Manifest) PieceOffset(i int) int64 { return int64(i) * m.PieceSize }

// PieceLen returns the length of piece i of a file of the given size.
func PieceLen(size, pieceSize int64, i int) int64 {
	off := int64(i) * pieceSize
	if off >= size {
		return 0
	}
	return min(pieceSize, size-off)
}

// PieceCount returns how many pieces a file of the given size has.
func PieceCount(size, pieceSize int64) int {
	if size <= 0 {
		return 0
	}
	return int((size + pieceSize - 1) / pieceSize)
}

// FileID computes the file ID of a regular file: BLAKE3-256 over
// size (uint64 little-endian) ‖ piece size (uint64 little-endian) ‖ the
// piece hashes in order.
func FileID(size, pieceSize int64, pieces []Piece) ID {
	h := blake3.New()
	var hdr [16]byte
	binary.LittleEndian.PutUint64(hdr[0:8], uint64(size))
	binary.LittleEndian.PutUint64(hdr[8:16], uint64(pieceSize))
	h.Write(hdr[:])
	for i := range pieces {
		h.Write(pieces[i].Hash[:])
	}
	var id ID
	h.Sum(id[:0])
	return id
}

// DirID is the file ID of every (live) directory.
func DirID() ID { return Hash([]byte("dartsync/dir/v1")) }

// TombstoneID is the file ID of the deletion of version base. It depends only
// on base, so two peers deleting the same version report the same ID.
func TombstoneID(base ID) ID {
	return Hash(append([]byte("dartsync/deleted/v1:"), base[:]...))
}

// NewDir returns the manifest of a directory at path.
func NewDir(path string, modTime int64) Manifest {
	return Manifest{Path: path, Kind: KindDir, ModTime: modTime, ID: DirID()}
}

// NewTombstone returns the tombstone that deletes version base of path.
func NewTombstone(path string, kind Kind, base ID, modTime int64) Manifest {
	return Manifest{Path: path, Kind: kind, Deleted: true, ModTime: modTime, ID: TombstoneID(base), Base: base}
}
