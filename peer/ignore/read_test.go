package ignore

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, root string)
		want    []byte
		wantErr error // nil = no error
	}{
		{"missing", func(*testing.T, string) {}, nil, nil},
		{"folder missing", func(t *testing.T, root string) {
			if err := os.Remove(root); err != nil {
				t.Fatal(err)
			}
		}, nil, fs.ErrNotExist},
		{"empty", func(t *testing.T, root string) { write(t, root, nil) }, []byte{}, nil},
		{"patterns", func(t *testing.T, root string) { write(t, root, []byte("*.log\n")) }, []byte("*.log\n"), nil},
		{"at the limit", func(t *testing.T, root string) { write(t, root, bytes.Repeat([]byte("#"), MaxFileSize)) },
			bytes.Repeat([]byte("#"), MaxFileSize), nil},
		{"too large", func(t *testing.T, root string) { write(t, root, bytes.Repeat([]byte("#"), MaxFileSize+1)) },
			nil, ErrTooLarge},
		{"a directory", func(t *testing.T, root string) {
			if err := os.Mkdir(filepath.Join(root, FileName), 0o755); err != nil {
				t.Fatal(err)
			}
		}, nil, ErrNotRegular},
		{"a symlink", func(t *testing.T, root string) {
			other := filepath.Join(t.TempDir(), "x")
			if err := os.WriteFile(other, []byte("*\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(other, filepath.Join(root, FileName)); err != nil {
				t.Skip("no symlinks:", err)
			}
		}, nil, ErrNotRegular},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.setup(t, root)
			got, err := Read(root)
			if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if !bytes.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Fatalf("got %d bytes (nil %v), want %d (nil %v)", len(got), got == nil, len(tc.want), tc.want == nil)
			}
		})
	}
}

func TestReadUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	root := t.TempDir()
	write(t, root, []byte("*.log\n"))
	if err := os.Chmod(filepath.Join(root, FileName), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(root); err == nil {
		t.Fatal("no error for an unreadable ignore file")
	}
}

func write(t *testing.T, root string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, FileName), data, 0o644); err != nil {
		t.Fatal(err)
	}
}
