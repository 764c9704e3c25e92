package manifest

import "io"

// patternByte is the golden-vector content generator (testdata/manifest):
// byte i of a file is (7*i + 3) mod 251.
func patternByte(i int64) byte { return byte((7*i + 3) % 251) }

func pattern(size int64) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = patternByte(int64(i))
	}
	return b
}

// patternReader streams n bytes of the pattern without holding them.
type patternReader struct{ off, n int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	for i := range p {
		p[i] = patternByte(r.off + int64(i))
	}
	r.off += int64(len(p))
	return len(p), nil
}

// refManifest is the obviously-correct sequential manifest of data.
func refManifest(data []byte, pieceSize int64) Manifest {
	var pieces []Piece
	for off := int64(0); off < int64(len(data)); off += pieceSize {
		p := data[off:min(off+pieceSize, int64(len(data)))]
		pieces = append(pieces, Piece{Hash: Hash(p), Weak: weakNaive(p)})
	}
	return Manifest{
		Kind:      KindFile,
		Size:      int64(len(data)),
		PieceSize: pieceSize,
		Pieces:    pieces,
		ID:        FileID(int64(len(data)), pieceSize, pieces),
	}
}
