package delta

import (
	"bytes"
	"context"
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

func TestCopyMatches(t *testing.T) {
	const ps = 4096
	dir := t.TempDir()
	target := randBytes(310, 50*ps+99)
	m := manifestOf(target, ps)
	old := splice(splice(target, 30*ps+5, 0, []byte("inserted")), 10*ps+7, 20, nil)
	if err := os.WriteFile(filepath.Join(dir, "old"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(filepath.Join(dir, "old"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Find(context.Background(), src, int64(len(old)), m, all(len(m.Pieces)))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.Create(filepath.Join(dir, "new"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	n, err := CopyMatches(dst, m, src, res.Matches)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst.Name())
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, mt := range res.Matches {
		off, l := m.PieceOffset(mt.Piece), m.PieceLen(mt.Piece)
		want += l
		if int64(len(got)) < off+l || !bytes.Equal(got[off:off+l], target[off:off+l]) {
			t.Fatalf("piece %d not copied right", mt.Piece)
		}
	}
	if n != want || len(res.Matches) < len(m.Pieces)-2 {
		t.Fatalf("copied %d bytes of %d matches, want %d", n, len(res.Matches), want)
	}
	if _, err := CopyMatches(dst, m, src, []Match{{Piece: 99}}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("match out of range: err = %v", err)
	}
}
