package bandwidth

import (
	"errors"
	"math"
	"testing"
)

// FuzzParseRate: any text is a rate within bounds or an error wrapping
// ErrBadRate, never a panic, and a rate's String reads back to within
// 0.1 %. Seeds in testdata/fuzz/FuzzParseRate.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10MB/s", "80Mbit/s", "512KiB/s", "0", "unlimited", "1.5GB", ".5MB/s", "1KiB/s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			if !errors.Is(err, ErrBadRate) {
				t.Fatalf("ParseRate(%q): error %v does not wrap ErrBadRate", s, err)
			}
			return
		}
		if r != 0 && (r < MinRate || r > MaxRate || math.IsNaN(float64(r))) {
			t.Fatalf("ParseRate(%q) = %v: out of bounds", s, float64(r))
		}
		back, err := ParseRate(r.String())
		if err != nil || math.Abs(float64(back-r)) > 1e-3*float64(r) {
			t.Fatalf("ParseRate(%q) = %v; its String %q reads back as %v, %v", s, float64(r), r.String(), float64(back), err)
		}
	})
}
