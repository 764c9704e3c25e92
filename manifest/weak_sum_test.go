package manifest

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// weakNaive is the definition of WeakSum, literally.
func weakNaive(p []byte) uint32 {
	var a, b uint32
	n := uint32(len(p))
	for i, x := range p {
		a += uint32(x)
		b += (n - uint32(i)) * uint32(x)
	}
	return (a & 0xffff) | (b&0xffff)<<16
}

func TestWeakSumMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 3<<20)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	inputs := []struct {
		name string
		data []byte
	}{
		{"random", random},
		{"0xff", bytes.Repeat([]byte{0xff}, 3<<20)},
		{"zero", make([]byte, 70000)},
	}
	lengths := []int{0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000, 4095, 4096, 4097,
		16*1024 - 1, 16 * 1024, 16*1024 + 1, 16*1024*2 + 5, 1 << 20, 3 << 20}
	for _, in := range inputs {
		for _, n := range lengths {
			if n > len(in.data) {
				continue
			}
			p := in.data[:n]
			want := weakNaive(p)
			if got := WeakSum(p); got != want {
				t.Errorf("%s n=%d: WeakSum %08x, definition %08x", in.name, n, got, want)
			}
			if got := weakGeneric(p); got != want {
				t.Errorf("%s n=%d: weakGeneric %08x, definition %08x", in.name, n, got, want)
			}
		}
	}
	// Unaligned starts exercise the vector path's loads.
	for off := range 40 {
		p := random[off : off+5000+off]
		if got, want := WeakSum(p), weakNaive(p); got != want {
			t.Errorf("offset %d: WeakSum %08x, definition %08x", off, got, want)
		}
	}
}

func TestRollerResetMatchesDefinition(t *testing.T) {
	data := make([]byte, 9000)
	for i := range data {
		data[i] = byte(i*7 + 3)
	}
	var r Roller
	r.Reset(data[:4096])
	for off := 0; off < 1000; off++ {
		if got, want := r.Sum(), weakNaive(data[off:off+4096]); got != want {
			t.Fatalf("off %d: rolled %08x, definition %08x", off, got, want)
		}
		r.Roll(data[off], data[off+4096])
	}
}

var weakSink uint32

func benchmarkWeak(b *testing.B, f func([]byte) uint32) {
	d := make([]byte, 1<<20)
	for i := range d {
		d[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		weakSink = f(d)
	}
}

func BenchmarkWeakSum(b *testing.B)     { benchmarkWeak(b, WeakSum) }
func BenchmarkWeakGeneric(b *testing.B) { benchmarkWeak(b, weakGeneric) }
func BenchmarkWeakNaive(b *testing.B)   { benchmarkWeak(b, weakNaive) }
