package manifest

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of manifestpb.Manifest read by UnmarshalHead.
const (
	fieldFormat     protowire.Number = 1
	fieldPath       protowire.Number = 2
	fieldKind       protowire.Number = 3
	fieldDeleted    protowire.Number = 4
	fieldSize       protowire.Number = 5
	fieldModTime    protowire.Number = 6
	fieldExec       protowire.Number = 7
	fieldPieceSize  protowire.Number = 8
	fieldHashes     protowire.Number = 9
	fieldWeak       protowire.Number = 10
	fieldFileID     protowire.Number = 11
	fieldBase       protowire.Number = 12
	weakPackedWidth                  = 4 // piece_weak is fixed32
)

// UnmarshalHead decodes an encoding made by Marshal without its piece list:
// the result has every field but Pieces (nil), and count is how many
// pieces the encoding holds. Nothing is allocated per piece, so a caller
// can list many large manifests and decode each whole (Unmarshal) only
// when it needs the pieces.
//
// It checks what it can without the pieces: the bounds of Unmarshal
// (MaxEncodedSize, MaxFileSize, MaxPieces), the format version, the path,
// kind, piece size and the piece count the size implies, and the lengths
// of IDs. It does not recompute the file ID; Unmarshal does. Every error
// wraps ErrCorrupt.
func UnmarshalHead(b []byte) (m Manifest, count int, err error) {
	if len(b) > MaxEncodedSize {
		return Manifest{}, 0, fmt.Errorf("%w: %w: %d bytes, at most %d", ErrCorrupt, ErrTooLarge, len(b), MaxEncodedSize)
	}
	m, count, err = unmarshalHead(b)
	if err != nil {
		return Manifest{}, 0, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return m, count, nil
}

func unmarshalHead(b []byte) (Manifest, int, error) {
	var (
		m                 Manifest
		format, pieceSize uint32
		kind              int32
		size              uint64
		hashLen, weakLen  int
		fileID, base      []byte
	)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return Manifest{}, 0, protowire.ParseError(n)
		}
		b = b[n:]
		var v uint64
		var bs []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			bs, n = protowire.ConsumeBytes(b)
		case protowire.Fixed32Type:
			var v32 uint32
			v32, n = protowire.ConsumeFixed32(b)
			v = uint64(v32)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return Manifest{}, 0, protowire.ParseError(n)
		}
		b = b[n:]
		// A known field with another wire type is an unknown field to
		// proto.Unmarshal, and so it is here.
		switch {
		case num == fieldPath && typ == protowire.BytesType:
			m.Path = string(bs)
		case num == fieldHashes && typ == protowire.BytesType:
			hashLen = len(bs)
		case num == fieldFileID && typ == protowire.BytesType:
			fileID = bs
		case num == fieldBase && typ == protowire.BytesType:
			base = bs
		case num == fieldWeak && typ == protowire.BytesType: // packed, as Marshal writes it
			if len(bs)%weakPackedWidth != 0 {
				return Manifest{}, 0, fmt.Errorf("packed piece_weak of %d bytes", len(bs))
			}
			weakLen += len(bs) / weakPackedWidth
		case num == fieldWeak && typ == protowire.Fixed32Type: // one element
			weakLen++
		case typ != protowire.VarintType:
		case num == fieldFormat:
			format = uint32(v)
		case num == fieldKind:
			kind = int32(v)
		case num == fieldDeleted:
			m.Deleted = protowire.DecodeBool(v)
		case num == fieldSize:
			size = v
		case num == fieldModTime:
			m.ModTime = int64(v)
		case num == fieldExec:
			m.Exec = protowire.DecodeBool(v)
		case num == fieldPieceSize:
			pieceSize = uint32(v)
		}
	}
	if format != FormatVersion {
		return Manifest{}, 0, fmt.Errorf("format version %d, this build reads %d", format, FormatVersion)
	}
	if size > MaxFileSize {
		return Manifest{}, 0, fmt.Errorf("%w: size %d, at most %d (MaxFileSize)", ErrTooLarge, size, int64(MaxFileSize))
	}
	if kind != int32(KindFile) && kind != int32(KindDir) {
		return Manifest{}, 0, fmt.Errorf("unknown kind %d", kind)
	}
	if weakLen > MaxPieces {
		return Manifest{}, 0, fmt.Errorf("%w: %d pieces, at most %d (MaxPieces)", ErrTooLarge, weakLen, MaxPieces)
	}
	if hashLen != IDSize*weakLen {
		return Manifest{}, 0, fmt.Errorf("%d bytes of piece hashes for %d weak sums, want %d", hashLen, weakLen, IDSize*weakLen)
	}
	var err error
	if m.ID, err = IDFromBytes(fileID); err != nil {
		return Manifest{}, 0, fmt.Errorf("file id: %w", err)
	}
	if m.Base, err = IDFromBytes(base); err != nil {
		return Manifest{}, 0, fmt.Errorf("base: %w", err)
	}
	m.Kind, m.Size, m.PieceSize = Kind(kind), int64(size), int64(pieceSize)
	if err := m.validateHead(weakLen); err != nil {
		return Manifest{}, 0, fmt.Errorf("%w %q: %w", ErrInvalid, truncate(m.Path), err)
	}
	return m, weakLen, nil
}
