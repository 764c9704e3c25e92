package delta

import (
	"encoding/binary"
	"errors"

	"github.com/dartsync/dartsync/manifest"
)

// Sentinel errors; see the package documentation.
var (
	ErrBadSignature = errors.New("delta: bad signature")
	ErrBadDelta     = errors.New("delta: bad delta")
	ErrVersion      = errors.New("delta: unsupported encoding version")
	ErrBasis        = errors.New("delta: basis does not fit the delta")
	ErrMismatch     = errors.New("delta: rebuilt piece has the wrong hash")
	ErrTooLarge     = errors.New("delta: input too large")
	ErrBadRequest   = errors.New("delta: bad request")
)

// Limits shared by the encoders and decoders.
const (
	// Version is the encoding version written by this package.
	Version = 1
	// MinBlockSize and MaxBlockSize bound a signature's block size.
	MinBlockSize = 256
	MaxBlockSize = 1 << 20
	// MaxBasisLen is the longest basis Sign accepts: two of the largest
	// pieces, so a caller may sign the old piece with some margin around it.
	MaxBasisLen = 2 * manifest.MaxPieceSize
	// MaxBlocks is the most blocks a signature may have.
	MaxBlocks = 1 << 16
	// MaxPieceLen is the longest piece Diff and Apply handle.
	MaxPieceLen = manifest.MaxPieceSize
	// MinStrongLen and MaxStrongLen bound the strong sum length per block
	// (bytes of the block's CRC-32C).
	MinStrongLen = 2
	MaxStrongLen = 4
	// MaxDeltaOverhead is how much longer than its piece a delta from Diff
	// can be: the header and one literal token's length.
	MaxDeltaOverhead = 1 + 3*binary.MaxVarintLen32
	// MaxChain is how many blocks with one weak checksum Diff compares
	// strong sums against (rsync caps its chains at 1024 too).
	MaxChain = 1024
)
