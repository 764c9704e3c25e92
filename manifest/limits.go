package manifest

import "fmt"

// Bounds on what one manifest may describe, so every decoder can refuse
// oversized input before allocating for it, and a member cannot make the
// other devices hold arbitrarily large claims (docs/PROTOCOL.md, "Limits").
//
// The piece count is what costs memory: every device that decodes a
// manifest holds IDSize+4 = 36 bytes per piece, and the encoding is as
// long. The file size costs disk only once the data exists, but a claimed
// size is what a receiver reserves room for, so it is bounded too.
const (
	// MaxFileSize is the largest file a manifest may describe: 1 TiB.
	// It is MaxPieces pieces of DefaultPieceSize, so a folder with the
	// default piece size can hold any file up to it; a larger piece size
	// makes manifests smaller, never files larger. It is far above what a
	// synced folder holds in practice (disk images, video archives) and
	// far below what the 63-bit size field could claim.
	MaxFileSize = 1 << 40
	// MaxPieces is the most pieces one manifest may have (2^20). A
	// manifest of MaxPieces pieces decodes to 36 MiB: the most a peer or
	// the tracker ever holds for one version. Changing it makes stored
	// indexes and tracker states holding larger manifests unreadable, so
	// it only ever grows.
	MaxPieces = 1 << 20
	// MaxEncodedSize is the longest valid encoding (Marshal) of a manifest:
	// MaxPieces hashes and weak sums, the longest path, and the fixed fields.
	MaxEncodedSize = MaxPieces*(IDSize+4) + MaxPathLen + 256
	// FormatVersion is the encoding version written in the format field.
	FormatVersion = 1
)

// CheckSize reports whether a file of size bytes in pieces of pieceSize
// bytes is within MaxFileSize and MaxPieces; errors wrap ErrTooLarge.
func CheckSize(size, pieceSize int64) error {
	switch {
	case size > MaxFileSize:
		return fmt.Errorf("%w: size %d, at most %d (MaxFileSize)", ErrTooLarge, size, int64(MaxFileSize))
	case pieceSize > 0 && PieceCount(size, pieceSize) > MaxPieces:
		return fmt.Errorf("%w: %d pieces of %d bytes, at most %d (MaxPieces)", ErrTooLarge, PieceCount(size, pieceSize), pieceSize, MaxPieces)
	}
	return nil
}
