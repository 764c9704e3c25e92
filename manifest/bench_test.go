package manifest

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/zeebo/blake3"
)

const benchSize = 256 << 20

// benchData returns n pseudo-random bytes (xorshift64), quickly.
func benchData(n int) []byte {
	b := make([]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := 0; i+8 <= n; i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint64(b[i:], x)
	}
	return b
}

// reportCPU adds MB/cpu-s: bytes hashed per CPU-second of the whole process
// since start (a processCPU reading taken before the loop).
func reportCPU(b *testing.B, start time.Duration, bytesPerOp int64) {
	cpu := processCPU() - start
	if cpu <= 0 {
		return
	}
	b.ReportMetric(float64(bytesPerOp)*float64(b.N)/cpu.Seconds()/1e6, "MB/cpu-s")
}

// BenchmarkManifest builds the manifest (BLAKE3 and weak sum of every 1 MiB
// piece, file ID) of 256 MiB held in memory, on all cores (BuildBytes:
// pieces hashed in place).
func BenchmarkManifest(b *testing.B) {
	data := benchData(benchSize)
	b.SetBytes(benchSize)
	defer reportCPU(b, processCPU(), benchSize)
	for b.Loop() {
		m, err := BuildBytes(context.Background(), data, DefaultPieceSize)
		if err != nil || m.Size != benchSize {
			b.Fatal(m.Size, err)
		}
	}
}

// BenchmarkManifestStream is BenchmarkManifest through the streaming Build
// (an io.Reader: every piece is copied into a pooled buffer first, as when
// reading a file).
func BenchmarkManifestStream(b *testing.B) {
	data := benchData(benchSize)
	b.SetBytes(benchSize)
	defer reportCPU(b, processCPU(), benchSize)
	for b.Loop() {
		m, err := Build(context.Background(), bytes.NewReader(data), DefaultPieceSize)
		if err != nil || m.Size != benchSize {
			b.Fatal(m.Size, err)
		}
	}
}

// BenchmarkBLAKE3Raw is the yardstick: one zeebo/blake3 hasher over the same
// 256 MiB on one core, written 1 MiB at a time.
func BenchmarkBLAKE3Raw(b *testing.B) {
	data := benchData(benchSize)
	b.SetBytes(benchSize)
	defer reportCPU(b, processCPU(), benchSize)
	var sum [32]byte
	for b.Loop() {
		h := blake3.New()
		for off := 0; off < len(data); off += 1 << 20 {
			h.Write(data[off : off+1<<20])
		}
		h.Sum(sum[:0])
	}
}

// BenchmarkUnmarshal decodes and validates the manifest of a 1 GiB file at
// the default piece size (1024 pieces).
func BenchmarkUnmarshal(b *testing.B) {
	pieces := make([]Piece, 1024)
	for i := range pieces {
		pieces[i] = Piece{Hash: Hash([]byte{byte(i), byte(i >> 8)}), Weak: uint32(i)}
	}
	m := Manifest{Path: "big.iso", Size: 1 << 30, PieceSize: DefaultPieceSize, Pieces: pieces, ID: FileID(1<<30, DefaultPieceSize, pieces)}
	enc, err := Marshal(&m)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := Unmarshal(enc); err != nil {
			b.Fatal(err)
		}
	}
}
