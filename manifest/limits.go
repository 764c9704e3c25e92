package manifest

// Bounds on what one manifest may describe, so every decoder can refuse
// oversized input before allocating for it.
const (
	// MaxPieces is the most pieces one manifest may have: a 1 TiB file at
	// the default 1 MiB piece size, 16 TiB at MaxPieceSize.
	MaxPieces = 1 << 20
	// MaxEncodedSize is the longest valid encoding (Marshal) of a manifest:
	// MaxPieces hashes and weak sums, the longest path, and the fixed fields.
	MaxEncodedSize = MaxPieces*(IDSize+4) + MaxPathLen + 256
	// FormatVersion is the encoding version written in the format field.
	FormatVersion = 1
)
