package chunkstore

import (
	"bufio"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

const testPieceSize = manifest.MinPieceSize

// buildManifest hashes data in memory (the test's own reference: piece hashes
// and weak sums straight from the manifest primitives).
func buildManifest(path string, data []byte, pieceSize int64) manifest.Manifest {
	m := manifest.Manifest{Path: path, Kind: manifest.KindFile, Size: int64(len(data)), PieceSize: pieceSize}
	for off := int64(0); off < int64(len(data)); off += pieceSize {
		p := data[off:min(off+pieceSize, int64(len(data)))]
		m.Pieces = append(m.Pieces, manifest.Piece{Hash: manifest.Hash(p), Weak: manifest.WeakSum(p)})
	}
	m.ID = manifest.FileID(m.Size, m.PieceSize, m.Pieces)
	return m
}

func randomData(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func piece(data []byte, pieceSize int64, i int) []byte {
	off := int64(i) * pieceSize
	return data[off:min(off+pieceSize, int64(len(data)))]
}

func openStore(t testing.TB, root string) *Store {
	t.Helper()
	s, err := Open(root, "", nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func writeFile(t testing.TB, root, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// killWhenReady runs this test binary again with only test name selected
// and env set to root (the child does the writing), waits for it to print
// READY, then kills it with SIGKILL.
func killWhenReady(t *testing.T, name, env, root string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$")
	cmd.Env = append(os.Environ(), env+"="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	if strings.TrimSpace(line) != "READY" {
		t.Fatalf("writer process: %q", line)
	}
}
