package chunkstore

import (
	"bytes"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

func TestRecordsRoundTrip(t *testing.T) {
	m := buildManifest("dir/f", randomData(1, 3*testPieceSize+1), testPieceSize)
	m.ModTime = -12345 // before 1970: a signed stamp
	for _, rec := range []refRec{fileRec(m.Path, &m), {kind: kindFile, name: []byte(m.Path), size: m.Size, pieceSize: m.PieceSize, prefixes: prefixesOf(&m)}} {
		got, err := decodeRef(encodeRef(rec))
		if err != nil || got.kind != rec.kind || !bytes.Equal(got.name, rec.name) || got.size != rec.size ||
			got.pieceSize != rec.pieceSize || got.mtime != rec.mtime || got.pieceCount() != 4 ||
			!bytes.Equal(got.prefix(3), m.Pieces[3].Hash[:hashPrefixLen]) {
			t.Fatalf("ref round trip: %+v, %v", got, err)
		}
	}
	for _, ref := range []uint64{0, 1, 255, 256, 1 << 40, 1<<64 - 1} {
		h := m.Pieces[1].Hash
		gh, gref, ok := parsePieceKey(pieceKey(h, ref))
		if !ok || gh != h || gref != ref {
			t.Fatalf("piece key round trip of ref %d: %v %d %v", ref, gh, gref, ok)
		}
	}
	// Ref keys sort as their refs do.
	if bytes.Compare(refKey(255), refKey(256)) >= 0 || bytes.Compare(refKey(1<<40), refKey(1<<40+1)) >= 0 {
		t.Fatal("ref keys out of order")
	}
	off, n, err := decodeLoc(encodeLoc(1<<40, 12345))
	if err != nil || off != 1<<40 || n != 12345 {
		t.Fatalf("location round trip: %d %d %v", off, n, err)
	}
	bits := newBitset(11)
	bits.set(0)
	bits.set(10)
	ref, b, progress, err := decodePartialRec(encodePartialRec(7, bits, 1234567890), 11)
	if err != nil || ref != 7 || !b.get(0) || !b.get(10) || b.get(5) || progress != 1234567890 {
		t.Fatalf("partial record round trip: %d %v %d %v", ref, b, progress, err)
	}
	// A record written before the progress time existed: ref and bitmap only.
	old := encodePartialRec(7, bits, 0)[:refKeyLen+bitsetLen(11)]
	if ref, b, progress, err := decodePartialRec(old, 11); err != nil || ref != 7 || !b.get(10) || progress != 0 {
		t.Fatalf("record without progress: %d %v %d %v", ref, b, progress, err)
	}
	tests := []struct {
		name string
		v    []byte
	}{
		{"empty", nil},
		{"unknown kind", []byte{'x', 0, 0, 1}},
		{"name longer than record", []byte{'f', 10, 'a'}},
		{"zero piece size", []byte{'f', 1, 'a', 0, 0}},
		{"hash count disagrees with size", append([]byte{'f', 1, 'a', 0x81, 0x20, 0x80, 0x20}, make([]byte, hashPrefixLen)...)},
		{"stamp missing", []byte{'s', 1, 'a', 0, 1}},
		{"partial name not an ID", []byte{'p', 1, 'a', 0, 1}},
	}
	for _, tt := range tests {
		if _, err := decodeRef(tt.v); err == nil {
			t.Errorf("decodeRef(%s) accepted %x", tt.name, tt.v)
		}
	}
	if _, _, err := decodeLoc([]byte{0x80}); err == nil {
		t.Error("decodeLoc accepted a truncated varint")
	}
	for _, n := range []int{9, 11, 17, 19} {
		if _, _, _, err := decodePartialRec(make([]byte, n), 11); err == nil {
			t.Errorf("decodePartialRec accepted %d bytes for 11 pieces", n)
		}
	}
}

// FuzzDecodeRecords: the decoders of database records never panic, and what
// they accept re-encodes to bytes that decode to the same record.
func FuzzDecodeRecords(f *testing.F) {
	m := buildManifest("a/b", randomData(2, 2*testPieceSize+5), testPieceSize)
	m.ModTime = 1 << 60
	f.Add(encodeRef(fileRec(m.Path, &m)))
	f.Add(encodeRef(refRec{kind: kindPartial, name: m.ID[:], size: m.Size, pieceSize: m.PieceSize, prefixes: prefixesOf(&m)}))
	f.Add(pieceKey(m.Pieces[0].Hash, 300))
	f.Add(encodeLoc(4096, 4096))
	f.Add(encodePartialRec(3, newBitset(3), 1<<60))
	f.Fuzz(func(t *testing.T, v []byte) {
		if r, err := decodeRef(v); err == nil {
			r2, err := decodeRef(encodeRef(r))
			if err != nil || r2.kind != r.kind || !bytes.Equal(r2.name, r.name) || r2.size != r.size ||
				r2.pieceSize != r.pieceSize || r2.mtime != r.mtime || !bytes.Equal(r2.prefixes, r.prefixes) {
				t.Errorf("ref %x does not survive re-encoding: %v", v, err)
			}
			for i := range r.pieceCount() {
				_ = r.prefix(i)
			}
			_ = manifest.PieceCount(r.size, r.pieceSize)
		}
		if h, ref, ok := parsePieceKey(v); ok {
			if !bytes.Equal(pieceKey(h, ref), v) {
				t.Errorf("piece key %x does not survive re-encoding", v)
			}
		}
		if off, n, err := decodeLoc(v); err == nil {
			if off2, n2, err := decodeLoc(encodeLoc(off, n)); err != nil || off2 != off || n2 != n {
				t.Errorf("location %x does not survive re-encoding: %v", v, err)
			}
		}
		for _, pieces := range []int{0, 1, 8, 9, 100} {
			ref, b, progress, err := decodePartialRec(v, pieces)
			if err != nil {
				continue
			}
			if len(b) != bitsetLen(pieces) {
				t.Errorf("bitmap of %d bytes for %d pieces", len(b), pieces)
			}
			ref2, b2, progress2, err := decodePartialRec(encodePartialRec(ref, b, progress), pieces)
			if err != nil || ref2 != ref || !bytes.Equal(b2, b) || progress2 != progress {
				t.Errorf("partial record %x does not survive re-encoding: %v", v, err)
			}
		}
	})
}
