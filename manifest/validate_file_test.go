package manifest

import (
	"errors"
	"testing"
)

func TestValidateFile(t *testing.T) {
	good := refManifest(pattern(3*MinPieceSize+5), MinPieceSize)
	mod := func(f func(m *Manifest)) Manifest {
		m := good
		m.Pieces = append([]Piece(nil), good.Pieces...)
		f(&m)
		return m
	}
	tests := []struct {
		name    string
		m       Manifest
		wantErr error
	}{
		{"live file without a path", good, nil},
		{"live file with a bad path", mod(func(m *Manifest) { m.Path = "../x" }), nil}, // the path is the caller's
		{"directory", NewDir("d", 0), ErrInvalid},
		{"tombstone", NewTombstone("f", KindFile, good.ID, 0), ErrInvalid},
		{"deleted flag on a file", mod(func(m *Manifest) { m.Deleted = true }), ErrInvalid},
		{"missing piece", mod(func(m *Manifest) { m.Pieces = m.Pieces[:2] }), ErrInvalid},
		{"wrong file ID", mod(func(m *Manifest) { m.ID[0] ^= 1 }), ErrInvalid},
		{"piece size too small", mod(func(m *Manifest) { m.PieceSize = 1 }), ErrPieceSize},
		{"negative size", mod(func(m *Manifest) { m.Size = -1 }), ErrInvalid},
		{"larger than MaxFileSize", mod(func(m *Manifest) { m.Size, m.PieceSize = MaxFileSize+1, MaxPieceSize }), ErrTooLarge},
		{"more than MaxPieces", mod(func(m *Manifest) { m.Size = (MaxPieces + 1) * MinPieceSize }), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.ValidateFile()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ValidateFile = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("ValidateFile = %v, want %v (and ErrInvalid)", err, tt.wantErr)
			}
		})
	}
}
