package index

import (
	"bytes"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// bigManifest is a file of n pieces of MinPieceSize with made-up hashes.
func bigManifest(path string, n int) manifest.Manifest {
	pieces := make([]manifest.Piece, n)
	for i := range pieces {
		pieces[i].Hash[0], pieces[i].Hash[1] = byte(i), byte(i>>8)
	}
	size := int64(n) * manifest.MinPieceSize
	return manifest.Manifest{Path: path, Size: size, PieceSize: manifest.MinPieceSize, Pieces: pieces,
		ID: manifest.FileID(size, manifest.MinPieceSize, pieces)}
}

// TestWantsAreHeads: Wants lists every want without its piece list but
// with its piece count; Want decodes one whole, only while it is for the
// version asked.
func TestWantsAreHeads(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	big := bigManifest("big", 1000)
	stored := []Want{
		{Manifest: big, Owners: []identity.DeviceID{{7}}, Seq: 3},
		{Manifest: manifest.NewDir("d", 1), Seq: 4},
		{Manifest: manifest.NewTombstone("gone", manifest.KindFile, big.ID, 2), Seq: 5},
		{Manifest: fileManifest("empty", ""), Seq: 6},
	}
	if err := x.Update(Batch{Wants: stored, Seq: 6}); err != nil {
		t.Fatal(err)
	}
	ws, err := x.Wants()
	if err != nil || len(ws) != len(stored) {
		t.Fatalf("Wants = %d, %v", len(ws), err)
	}
	byPath := map[string]Want{}
	for _, w := range ws {
		byPath[w.Manifest.Path] = w
	}
	if h := byPath["big"]; h.Manifest.Pieces != nil || h.Pieces != 1000 || h.Whole() || h.Manifest.ID != big.ID || h.Seq != 3 || h.Owners[0] != (identity.DeviceID{7}) {
		t.Errorf("head of big = %d pieces listed, Pieces %d, whole %v", len(h.Manifest.Pieces), h.Pieces, h.Whole())
	}
	for _, p := range []string{"d", "gone", "empty"} {
		if w := byPath[p]; !w.Whole() {
			t.Errorf("%s: a want without pieces is not whole", p)
		}
	}
	tests := []struct {
		name   string
		path   string
		id     manifest.ID
		wantOK bool
	}{
		{"the listed version", "big", big.ID, true},
		{"another version", "big", fileManifest("big", "x").ID, false},
		{"no want", "nope", big.ID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, ok, err := x.Want(tt.path, tt.id)
			if err != nil || ok != tt.wantOK {
				t.Fatalf("Want = %v, %v; want ok %v", ok, err, tt.wantOK)
			}
			if ok && (!w.Whole() || len(w.Manifest.Pieces) != 1000 || w.Manifest.Pieces[999] != big.Pieces[999]) {
				t.Fatalf("whole want has %d pieces", len(w.Manifest.Pieces))
			}
		})
	}
}

// FuzzDecodeWantHead: the head decoder of want records never crashes and
// agrees with the whole one: every record decodeWant accepts,
// decodeWantHead accepts with the same fields and piece count.
func FuzzDecodeWantHead(f *testing.F) {
	for _, w := range []Want{
		{Manifest: bigManifest("big", 3), Owners: []identity.DeviceID{{1}, {2}}, Seq: 9},
		{Manifest: manifest.NewDir("d", 1)},
		{Manifest: fileManifest("a", "data")},
	} {
		b, err := encodeWant(&w)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, herr := decodeWantHead(b)
		w, werr := decodeWant(b)
		if werr != nil {
			return
		}
		if herr != nil {
			t.Fatalf("decodeWant accepts what decodeWantHead refuses: %v", herr)
		}
		if h.Pieces != len(w.Manifest.Pieces) || h.Manifest.ID != w.Manifest.ID || h.Manifest.Path != w.Manifest.Path ||
			h.Seq != w.Seq || len(h.Owners) != len(w.Owners) || h.Manifest.Pieces != nil {
			t.Fatalf("head %+v, whole %+v", h, w)
		}
		for i := range h.Owners {
			if !bytes.Equal(h.Owners[i][:], w.Owners[i][:]) {
				t.Fatalf("owner %d differs", i)
			}
		}
	})
}
