package delta

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// Benchmark fixtures are built once per test binary run: 256 MiB of data.
const (
	benchSize  = 256 << 20
	benchPiece = 1 << 20
)

type searchFixture struct {
	basis []byte
	m     *manifest.Manifest
	want  []int
	found int // pieces expected to be found
}

var (
	noMatchOnce sync.Once
	noMatchFix  searchFixture
	insertOnce  sync.Once
	insertFix   searchFixture
)

// noMatchFixture: a random basis and an unrelated random target, except that
// four target pieces were planted in the basis at unaligned offsets. Every
// byte is rolled.
func noMatchFixture() *searchFixture {
	noMatchOnce.Do(func() {
		basis := randBytes(1000, benchSize)
		m := &manifest.Manifest{Size: benchSize, PieceSize: benchPiece}
		planted := map[int]int{10: 3<<20 + 12345, 100: 77<<20 + 1, 200: 150<<20 + 999, 255: benchSize - benchPiece - 7}
		for i := range benchSize / benchPiece {
			p := randBytes(2000+uint64(i), benchPiece)
			if at, ok := planted[i]; ok {
				copy(basis[at:], p)
			}
			m.Pieces = append(m.Pieces, manifest.Piece{Hash: manifest.Hash(p), Weak: manifest.WeakSum(p)})
		}
		noMatchFix = searchFixture{basis: basis, m: m, want: all(len(m.Pieces)), found: len(planted)}
	})
	return &noMatchFix
}

// insertFixture: the basis is the target with one byte inserted at 1000.
func insertFixture() *searchFixture {
	insertOnce.Do(func() {
		basis := randBytes(3000, benchSize+1)
		m := &manifest.Manifest{Size: benchSize, PieceSize: benchPiece}
		first := append(bytes.Clone(basis[:1000]), basis[1001:benchPiece+1]...)
		for i := range benchSize / benchPiece {
			p := first
			if i > 0 {
				p = basis[i*benchPiece+1 : (i+1)*benchPiece+1]
			}
			m.Pieces = append(m.Pieces, manifest.Piece{Hash: manifest.Hash(p), Weak: manifest.WeakSum(p)})
		}
		insertFix = searchFixture{basis: basis, m: m, want: all(len(m.Pieces)), found: len(m.Pieces) - 1}
	})
	return &insertFix
}

// BenchmarkRollingSearch measures Find over a 256 MiB basis (one core):
// NoMatch rolls every byte of a basis in memory, NoMatchFile of the same
// basis in a file (page cache), and InsertNearStart finds everything but the
// first piece through adjacency.
func BenchmarkRollingSearch(b *testing.B) {
	for _, c := range []struct {
		name   string
		fix    func() *searchFixture
		onDisk bool
	}{
		{"NoMatch", noMatchFixture, false},
		{"NoMatchFile", noMatchFixture, true},
		{"InsertNearStart", insertFixture, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			fix := c.fix()
			var basis io.ReaderAt = bytes.NewReader(fix.basis)
			if c.onDisk {
				// A real file (in the page cache after writing it).
				path := filepath.Join(b.TempDir(), "basis")
				if err := os.WriteFile(path, fix.basis, 0o600); err != nil {
					b.Fatal(err)
				}
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				basis = f
			}
			b.SetBytes(int64(len(fix.basis)))
			b.ResetTimer()
			var res FindResult
			cpu0, n := cpuTime(), 0
			for b.Loop() {
				n++
				var err error
				res, err = Find(context.Background(), basis, int64(len(fix.basis)), fix.m, fix.want)
				if err != nil {
					b.Fatal(err)
				}
			}
			if len(res.Matches) != fix.found {
				b.Fatalf("found %d pieces, want %d", len(res.Matches), fix.found)
			}
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(n)*float64(len(fix.basis))/cpu.Seconds()/1e6, "MB/cpu-s")
			}
			b.ReportMetric(float64(res.Stats.Rolled), "rolled/op")
			b.ReportMetric(float64(res.Stats.Strong), "strong/op")
		})
	}
}

// deltaCase is one 1 MiB piece with its old version.
type deltaCase struct{ old, nw []byte }

// deltaCases returns pieces with the given number of 4 KiB overwrites at
// random offsets.
func deltaCases(edits int) []deltaCase {
	rng := rand.New(rand.NewPCG(uint64(edits), 7))
	cases := make([]deltaCase, 16)
	for i := range cases {
		old := randBytes(uint64(4000+i), benchPiece)
		nw := bytes.Clone(old)
		for e := range edits {
			copy(nw[rng.IntN(benchPiece-4096):], randBytes(uint64(5000+i*100+e), 4096))
		}
		cases[i] = deltaCase{old, nw}
	}
	return cases
}

// BenchmarkPieceDelta measures the whole piece-level exchange for a 1 MiB
// piece (Sign, encode and decode the signature, Diff, Apply) and reports the
// bytes on the wire: signature, delta and their sum, averaged over 16 pieces.
func BenchmarkPieceDelta(b *testing.B) {
	for _, edits := range []int{1, 4} {
		cases := deltaCases(edits)
		for _, bs := range []int{0, 1024, 2048, 4096, 8192, 16384} {
			name := fmt.Sprintf("edits=%d/block=%d", edits, bs)
			if bs == 0 {
				name = fmt.Sprintf("edits=%d/block=default", edits)
			}
			b.Run(name, func(b *testing.B) {
				var sigBytes, deltaBytes int
				exchange := func(c deltaCase) (int, int) {
					sig, err := Sign(c.old, bs)
					if err != nil {
						b.Fatal(err)
					}
					se, err := sig.MarshalBinary()
					if err != nil {
						b.Fatal(err)
					}
					var sig2 Signature
					if err := sig2.UnmarshalBinary(se); err != nil {
						b.Fatal(err)
					}
					de, err := Diff(&sig2, c.nw)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := Apply(c.old, de, manifest.Hash(c.nw), len(c.nw)); err != nil {
						b.Fatal(err)
					}
					return len(se), len(de)
				}
				for _, c := range cases {
					s, d := exchange(c)
					sigBytes += s
					deltaBytes += d
				}
				b.SetBytes(benchPiece)
				b.ResetTimer()
				i := 0
				cpu0 := cpuTime()
				for b.Loop() {
					exchange(cases[i%len(cases)])
					i++
				}
				if cpu := cpuTime() - cpu0; cpu > 0 {
					b.ReportMetric(float64(i)*benchPiece/cpu.Seconds()/1e6, "MB/cpu-s")
				}
				n := float64(len(cases))
				b.ReportMetric(float64(sigBytes)/n, "sig-B/piece")
				b.ReportMetric(float64(deltaBytes)/n, "delta-B/piece")
				b.ReportMetric(float64(sigBytes+deltaBytes)/n, "wire-B/piece")
			})
		}
	}
}
