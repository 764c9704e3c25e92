package manifest

import (
	"errors"
	"fmt"
)

// Validate reports whether m obeys the data model. Every error wraps
// ErrInvalid (and ErrBadPath or ErrPieceSize where that is the cause).
//
//   - Path passes ValidatePath; Kind is KindFile or KindDir.
//   - A tombstone (Deleted) has no size, pieces, piece size or exec bit, a
//     non-zero Base, and ID = TombstoneID(Base).
//   - A live directory has no size, pieces, piece size or exec bit, and
//     ID = DirID().
//   - A live file has a piece size in [MinPieceSize, MaxPieceSize], a size
//     of at most MaxFileSize, exactly PieceCount(Size, PieceSize) ≤
//     MaxPieces pieces (ErrTooLarge if over a limit), and
//     ID = FileID(Size, PieceSize, Pieces).
func (m *Manifest) Validate() error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("%w %q: %w", ErrInvalid, truncate(m.Path), err)
	}
	return nil
}

// ValidateFile reports whether m is a live file by Validate's rules, its
// path aside (a manifest built from bytes has none yet). Every error wraps
// ErrInvalid.
func (m *Manifest) ValidateFile() error {
	var err error
	switch {
	case m.Kind != KindFile:
		err = fmt.Errorf("kind %d, not a file", m.Kind)
	case m.Deleted:
		err = errors.New("a tombstone, not a live file")
	default:
		err = m.validateFile(-1)
	}
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrInvalid, truncate(m.Path), err)
	}
	return nil
}

func (m *Manifest) validate() error { return m.validateHead(-1) }

// validateHead is validate for a manifest of count pieces whose piece list
// was not decoded (UnmarshalHead): everything but the file ID. A count of
// -1 means the manifest is whole: len(m.Pieces), and the ID is checked.
func (m *Manifest) validateHead(count int) error {
	if err := ValidatePath(m.Path); err != nil {
		return err
	}
	if m.Kind != KindFile && m.Kind != KindDir {
		return fmt.Errorf("unknown kind %d", m.Kind)
	}
	if m.Deleted || m.Kind == KindDir {
		what := "directory"
		if m.Deleted {
			what = "tombstone"
		}
		switch {
		case m.Size != 0:
			return fmt.Errorf("%s with size %d", what, m.Size)
		case max(count, len(m.Pieces)) != 0:
			return fmt.Errorf("%s with %d pieces", what, max(count, len(m.Pieces)))
		case m.PieceSize != 0:
			return fmt.Errorf("%s with piece size %d", what, m.PieceSize)
		case m.Exec:
			return fmt.Errorf("%s with the executable bit", what)
		}
		if m.Deleted {
			if m.Base.IsZero() {
				return errors.New("tombstone without a base version")
			}
			if want := TombstoneID(m.Base); m.ID != want {
				return fmt.Errorf("tombstone ID %s, want %s", m.ID.Short(), want.Short())
			}
			return nil
		}
		if want := DirID(); m.ID != want {
			return fmt.Errorf("directory ID %s, want %s", m.ID.Short(), want.Short())
		}
		return nil
	}
	return m.validateFile(count)
}

// validateFile checks a live file's piece size, piece list and ID (the
// piece count and no ID if count is not -1: see validateHead).
func (m *Manifest) validateFile(count int) error {
	if err := CheckPieceSize(m.PieceSize); err != nil {
		return err
	}
	if m.Size < 0 {
		return fmt.Errorf("negative size %d", m.Size)
	}
	if err := CheckSize(m.Size, m.PieceSize); err != nil {
		return err
	}
	whole := count < 0
	if whole {
		count = len(m.Pieces)
	}
	if want := PieceCount(m.Size, m.PieceSize); count != want {
		return fmt.Errorf("%d pieces, want %d for size %d and piece size %d", count, want, m.Size, m.PieceSize)
	}
	if !whole {
		return nil
	}
	if want := FileID(m.Size, m.PieceSize, m.Pieces); m.ID != want {
		return fmt.Errorf("file ID %s does not match its pieces (%s)", m.ID.Short(), want.Short())
	}
	return nil
}
