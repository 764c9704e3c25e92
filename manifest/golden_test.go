package manifest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden encodings in testdata/manifest")

const goldenDir = "../testdata/manifest"

type goldenPiece struct {
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Hash   string `json:"hash"`
	Weak   string `json:"weak"`
}

type goldenVector struct {
	Name      string        `json:"name"`
	Size      int64         `json:"size"`
	PieceSize int64         `json:"piece_size"`
	FileID    string        `json:"file_id"`
	Pieces    []goldenPiece `json:"pieces"`
}

func loadVectors(t testing.TB) []goldenVector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []goldenVector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) < 5 {
		t.Fatalf("only %d golden vectors", len(f.Vectors))
	}
	return f.Vectors
}

// TestGoldenVectors builds every golden file (from memory and from disk) and
// compares with the values computed by b3sum and the weak-sum definition.
func TestGoldenVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			data := pattern(v.Size)
			fromMem, err := Build(context.Background(), bytes.NewReader(data), v.PieceSize)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "f"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			fromFile, err := BuildFile(context.Background(), dir, "f", v.PieceSize)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []Manifest{fromMem, fromFile} {
				checkGolden(t, v, &m)
			}
		})
	}
}

func checkGolden(t *testing.T, v goldenVector, m *Manifest) {
	t.Helper()
	if m.Size != v.Size || m.PieceSize != v.PieceSize {
		t.Fatalf("size %d piece size %d, want %d %d", m.Size, m.PieceSize, v.Size, v.PieceSize)
	}
	if got := m.ID.String(); got != v.FileID {
		t.Errorf("file ID %s, want %s", got, v.FileID)
	}
	if len(m.Pieces) != len(v.Pieces) {
		t.Fatalf("%d pieces, want %d", len(m.Pieces), len(v.Pieces))
	}
	for i, p := range v.Pieces {
		if off, n := m.PieceOffset(i), m.PieceLen(i); off != p.Offset || n != p.Length {
			t.Errorf("piece %d at %d+%d, want %d+%d", i, off, n, p.Offset, p.Length)
		}
		if got := m.Pieces[i].Hash.String(); got != p.Hash {
			t.Errorf("piece %d hash %s, want %s", i, got, p.Hash)
		}
		if got := hexWeak(m.Pieces[i].Weak); got != p.Weak {
			t.Errorf("piece %d weak %s, want %s", i, got, p.Weak)
		}
	}
}

func hexWeak(w uint32) string {
	return hex.EncodeToString([]byte{byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w)})
}

// goldenEncodings are the manifests whose encodings are pinned in
// testdata/manifest/*.manifest (also the seeds of FuzzUnmarshal).
func goldenEncodings(t testing.TB) map[string]Manifest {
	t.Helper()
	out := map[string]Manifest{}
	for i, v := range loadVectors(t) {
		m, err := Build(context.Background(), bytes.NewReader(pattern(v.Size)), v.PieceSize)
		if err != nil {
			t.Fatal(err)
		}
		m.Path = "golden/" + v.Name + ".bin"
		m.ModTime = 1700000000123456789 + int64(i)
		m.Exec = i%2 == 1
		if i%3 == 2 {
			m.Base = Hash([]byte("previous version of " + v.Name))
		}
		out[v.Name] = m
	}
	out["dir"] = NewDir("golden/dir", 1700000000000000000)
	out["tombstone"] = NewTombstone("golden/deleted.txt", KindFile, out["one-byte"].ID, 1700000000999999999)
	out["dir-tombstone"] = NewTombstone("golden/old dir", KindDir, DirID(), 1)
	return out
}

func TestGoldenEncodings(t *testing.T) {
	for name, m := range goldenEncodings(t) {
		file := filepath.Join(goldenDir, name+".manifest")
		enc, err := Marshal(&m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *update {
			if err := os.WriteFile(file, enc, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%s: %v (run go test -run TestGoldenEncodings -update once)", name, err)
		}
		if !bytes.Equal(enc, want) {
			t.Errorf("%s: encoding changed:\n got %x\nwant %x", name, enc, want)
		}
		dec, err := Unmarshal(want)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !equalManifest(&dec, &m) {
			t.Errorf("%s: decoded %+v, want %+v", name, dec, m)
		}
	}
}

// equalManifest compares manifests, treating nil and empty piece lists alike.
func equalManifest(a, b *Manifest) bool {
	if len(a.Pieces) != len(b.Pieces) {
		return false
	}
	for i := range a.Pieces {
		if a.Pieces[i] != b.Pieces[i] {
			return false
		}
	}
	x, y := *a, *b
	x.Pieces, y.Pieces = nil, nil
	return reflect.DeepEqual(x, y)
}

// TestHashAgreesWithB3sum runs the reference b3sum on whole pieces (golden
// ones and a random 1 MiB piece that exercises every code path of the
// hasher) and compares with Hash.
func TestHashAgreesWithB3sum(t *testing.T) {
	b3, err := exec.LookPath("b3sum")
	if err != nil {
		t.Skip("b3sum not installed")
	}
	dir := t.TempDir()
	check := func(name string, p []byte) {
		t.Helper()
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, p, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(b3, "--no-names", "--num-threads", "1", f).Output()
		if err != nil {
			t.Fatalf("b3sum %s: %v", name, err)
		}
		if got, want := Hash(p).String(), strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s (%d bytes): Hash %s, b3sum %s", name, len(p), got, want)
		}
	}
	for _, v := range loadVectors(t) {
		data := pattern(v.Size)
		for i, p := range v.Pieces {
			check(v.Name+"-"+string(rune('a'+i)), data[p.Offset:p.Offset+p.Length])
		}
	}
	random := make([]byte, 1<<20+333)
	for i := range random {
		random[i] = byte(uint32(i) * 2654435761 >> 24)
	}
	check("random", random)
}
