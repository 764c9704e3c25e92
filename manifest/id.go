package manifest

import (
	"encoding/hex"
	"fmt"

	"github.com/zeebo/blake3"
)

// IDSize is the length of an ID in bytes.
const IDSize = 32

// ID is a BLAKE3-256 content hash: of a piece's bytes, or a file ID. It is
// comparable and usable as a map key. The zero ID means "none".
type ID [IDSize]byte

// String returns the lower-case hex form of id.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 8 hex characters of id, for logs.
func (id ID) Short() string { return hex.EncodeToString(id[:4]) }

// IsZero reports whether id is the zero ID ("none").
func (id ID) IsZero() bool { return id == ID{} }

// ParseID parses the 64-character hex form produced by String.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*IDSize {
		return id, fmt.Errorf("manifest: parse id %q: want %d hex characters, got %d", s, 2*IDSize, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("manifest: parse id %q: %w", s, err)
	}
	return id, nil
}

// IDFromBytes copies a 32-byte slice into an ID. An empty slice gives the zero
// ID; any other length is an error.
func IDFromBytes(b []byte) (ID, error) {
	var id ID
	switch len(b) {
	case 0:
		return id, nil
	case IDSize:
		copy(id[:], b)
		return id, nil
	default:
		return id, fmt.Errorf("manifest: id is %d bytes, want %d", len(b), IDSize)
	}
}

// Hash returns the BLAKE3-256 hash of p.
func Hash(p []byte) ID {
	return ID(blake3.Sum256(p))
}
