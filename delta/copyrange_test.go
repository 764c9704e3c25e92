package delta

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestCopyRange(t *testing.T) {
	dir := t.TempDir()
	data := randBytes(300, 3<<20+17)
	srcPath := filepath.Join(dir, "src")
	if err := os.WriteFile(srcPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	copies := []struct {
		name           string
		dstOff, srcOff int64
		n              int64
		err            error
	}{
		{"nothing", 0, 0, 0, nil},
		{"whole file", 0, 0, int64(len(data)), nil},
		{"unaligned middle", 12345, 777, 1<<20 + 3, nil},
		{"past the end of the destination", 5 << 20, 1 << 20, 4096, nil},
		{"source too short", 0, int64(len(data)) - 10, 11, io.ErrUnexpectedEOF},
		{"negative length", 0, 0, -1, ErrBadRequest},
		{"negative offset", -1, 0, 1, ErrBadRequest},
	}
	for _, impl := range []struct {
		name string
		copy func(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error
	}{
		{"CopyRange", CopyRange},
		{"portable", func(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error {
			if n < 0 || dstOff < 0 {
				return ErrBadRequest
			}
			return copyRangeUser(dst, dstOff, src, srcOff, n)
		}},
	} {
		for _, tt := range copies {
			t.Run(impl.name+"/"+tt.name, func(t *testing.T) {
				dst, err := os.Create(filepath.Join(t.TempDir(), "dst"))
				if err != nil {
					t.Fatal(err)
				}
				defer dst.Close()
				err = impl.copy(dst, tt.dstOff, src, tt.srcOff, tt.n)
				if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if err != nil {
					return
				}
				got, err := os.ReadFile(dst.Name())
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(got)) != tt.dstOff+tt.n && tt.n > 0 {
					t.Fatalf("destination is %d bytes, want %d", len(got), tt.dstOff+tt.n)
				}
				if !bytes.Equal(got[tt.dstOff:], data[tt.srcOff:tt.srcOff+tt.n]) {
					t.Fatal("copied bytes differ")
				}
				if off, _ := dst.Seek(0, io.SeekCurrent); off != 0 {
					t.Errorf("destination offset moved to %d", off)
				}
			})
		}
	}
}
