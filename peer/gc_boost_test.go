package peer

import (
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
