package peer

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestGCBoost(t *testing.T) {
	base := debug.SetGCPercent(25)
	defer debug.SetGCPercent(base)
	tests := []struct {
		name    string
		g       *gcBoost
		small   int
		boosted int // GC percent between begin and end
	}{
		{"nil", nil, 1000, 25},
		{"zero percent", newGCBoost(0), 1000, 25},
		{"few small files", newGCBoost(400), smallBatchGC - 1, 25},
		{"many small files", newGCBoost(400), smallBatchGC, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			end := tc.g.begin(tc.small)
			if got := gcPercent(); got != tc.boosted {
				t.Errorf("during: GC percent %d, want %d", got, tc.boosted)
			}
			end()
			end() // a second call does nothing
			if got := gcPercent(); got != 25 {
				t.Errorf("after: GC percent %d, want 25", got)
			}
		})
	}
}

func TestGCBoostMemoryLimit(t *testing.T) {
	base := debug.SetGCPercent(25)
	defer debug.SetGCPercent(base)
	baseLimit := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(baseLimit)
	g := newGCBoost(400)
	end := g.begin(smallBatchGC)
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 || limit < boostHeadroom {
		t.Errorf("boosted memory limit %d, want the memory held plus at least %d", limit, boostHeadroom)
	}
	end()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit after the boost %d, want it back at %d", got, int64(math.MaxInt64))
	}

	// A lower limit already set is kept.
	debug.SetMemoryLimit(1 << 20)
	end = g.begin(smallBatchGC)
	if got := debug.SetMemoryLimit(-1); got != 1<<20 {
		t.Errorf("boost raised a lower limit to %d", got)
	}
	end()
}

func TestGCBoostNested(t *testing.T) {
	base := debug.SetGCPercent(25)
	defer debug.SetGCPercent(base)
	g := newGCBoost(400)
	end1 := g.begin(smallBatchGC)
	end2 := g.begin(smallBatchGC)
	end1()
	if got := gcPercent(); got != 400 {
		t.Errorf("one phase still boosted: GC percent %d, want 400", got)
	}
	end2()
	if got := gcPercent(); got != 25 {
		t.Errorf("after both: GC percent %d, want 25", got)
	}
}

// gcPercent reads the GC percent (SetGCPercent is the only way).
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}
