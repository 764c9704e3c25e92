package manifest

import (
	"math/rand/v2"
	"testing"
)

func TestRollerMatchesWeakSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 5000)
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	for _, n := range []int{1, 2, 16, 700, 4096} {
		var r Roller
		r.Reset(data[:n])
		for off := 0; off+n <= len(data); off++ {
			if got, want := r.Sum(), WeakSum(data[off:off+n]); got != want {
				t.Fatalf("n=%d off=%d: rolled %08x, direct %08x", n, off, got, want)
			}
			if off+n < len(data) {
				r.Roll(data[off], data[off+n])
			}
		}
	}
}
