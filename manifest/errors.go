package manifest

import "errors"

// Sentinel errors. Every error this package returns wraps one of them (or
// ErrBadPath, or a context or I/O error), so callers decide with errors.Is.
var (
	// ErrInvalid: a Manifest breaks a rule of the data model (see Validate).
	ErrInvalid = errors.New("invalid manifest")
	// ErrCorrupt: encoded bytes are not a valid manifest (see Unmarshal).
	// Decoding errors wrap it together with the precise cause.
	ErrCorrupt = errors.New("corrupt manifest encoding")
	// ErrPieceSize: a piece size outside [MinPieceSize, MaxPieceSize].
	ErrPieceSize = errors.New("piece size out of range")
	// ErrTooLarge: a file larger than MaxFileSize, more than MaxPieces
	// pieces, or an encoding longer than MaxEncodedSize.
	ErrTooLarge = errors.New("manifest too large")
	// ErrChanged: the file changed (size or modification time) while it was
	// being hashed; hash it again later.
	ErrChanged = errors.New("file changed while hashing")
	// ErrNotRegular: the path is neither a regular file nor a directory
	// (a symlink, device, socket, …); DartSync does not sync it.
	ErrNotRegular = errors.New("not a regular file or directory")
)
