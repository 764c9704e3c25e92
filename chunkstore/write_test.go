package chunkstore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

func TestDirectAligned(t *testing.T) {
	buf := make([]byte, 3*directAlign) // large: page-aligned by the Go allocator
	if uintptr(unsafe.Pointer(&buf[0]))%directAlign != 0 {
		t.Skip("allocator gave an unaligned buffer")
	}
	tests := []struct {
		name string
		data []byte
		off  int64
		want bool
	}{
		{"aligned", buf[:2*directAlign], directAlign, true},
		{"short length", buf[:directAlign+1], 0, false},
		{"unaligned offset", buf[:directAlign], 512, false},
		{"unaligned memory", buf[1 : 1+directAlign], 0, false},
		{"empty", buf[:0], 0, false},
	}
	for _, tt := range tests {
		if got := directAligned(tt.data, tt.off); got != tt.want {
			t.Errorf("%s: directAligned = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestPartialDirectWrites writes a file of aligned pieces and a short last
// piece, from aligned and unaligned buffers, and checks the committed bytes;
// on Linux with a file system that takes O_DIRECT, direct writes stay on.
func TestPartialDirectWrites(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	data := randomData(31, 5*testPieceSize+123)
	m := buildManifest("d.bin", data, testPieceSize)
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Pieces {
		src := piece(data, testPieceSize, i)
		buf := make([]byte, len(src)+1)
		if i%2 == 1 {
			buf = buf[1:] // unaligned: through the page cache
		} else {
			buf = buf[:len(src)]
		}
		copy(buf, src)
		if err := p.WritePiece(i, buf); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(root, "d.bin")
	if err := p.Commit(target); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("committed file differs from the pieces written")
	}
	if directSupported && testPieceSize%directAlign == 0 && !s.direct.Load() {
		t.Logf("direct writes were refused by the file system of %s", root)
	}
}

// TestPartialDirectRefused: a file system that refuses O_DIRECT turns
// direct writes off for the store, and every piece still lands, through the
// page cache.
func TestPartialDirectRefused(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	defer s.Close()
	s.direct.Store(true)
	var refused int
	s.writeDirect = func(string, []byte, int64) error { refused++; return errNoDirect }
	data := randomData(32, 4*testPieceSize)
	m := buildManifest("r.bin", data, testPieceSize)
	p, err := s.Partial(&m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Pieces {
		buf := make([]byte, testPieceSize) // large enough to be page-aligned
		copy(buf, piece(data, testPieceSize, i))
		if err := p.WritePiece(i, buf); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(root, "r.bin")
	if err := p.Commit(target); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(target); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("committed file differs after refused direct writes (%v)", err)
	}
	if s.direct.Load() {
		t.Error("direct writes still on after a refusal")
	}
	if refused > 1 {
		t.Errorf("direct write tried %d times after the first refusal", refused)
	}
}
