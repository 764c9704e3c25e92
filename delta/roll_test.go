package delta

import (
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// The inlined rolling in this package must give manifest.WeakSum's values.
func TestRollingMatchesManifest(t *testing.T) {
	data := randBytes(1, 20000)
	for _, l := range []int{1, 3, 7, 8, 9, 17, 256, 4096, 4099} {
		a, b := weakAB(data[:l])
		var r manifest.Roller
		r.Reset(data[:l])
		for off := 0; off+l <= len(data); off++ {
			want := manifest.WeakSum(data[off : off+l])
			if got := weakOf(a, b); got != want {
				t.Fatalf("l=%d off=%d: rolled %08x, WeakSum %08x", l, off, got, want)
			}
			if got := r.Sum(); got != want {
				t.Fatalf("l=%d off=%d: Roller %08x, WeakSum %08x", l, off, got, want)
			}
			if off+l < len(data) {
				a, b = rollOne(a, b, l, data[off], data[off+l])
				r.Roll(data[off], data[off+l])
			}
		}
	}
}

func TestRollScanStopsAtFirstMember(t *testing.T) {
	data := randBytes(2, 50000)
	const l = 512
	for _, at := range []int{0, 1, 777, len(data) - l - 1, len(data) - l} {
		ws := newWeakSet(1)
		ws.build([]uint32{manifest.WeakSum(data[at : at+l])}, []int32{7})
		a, b := weakAB(data[:l])
		j, a2, b2, hit := rollScan(data, 0, l, a, b, ws)
		if !hit || j != at {
			t.Fatalf("member at %d: stopped at %d hit=%v", at, j, hit)
		}
		if weakOf(a2, b2) != manifest.WeakSum(data[j:j+l]) {
			t.Fatalf("halves at %d do not match the window", j)
		}
	}
	ws := newWeakSet(0)
	ws.build(nil, nil)
	a, b := weakAB(data[:l])
	j, _, _, hit := rollScan(data, 0, l, a, b, ws)
	if hit || j != len(data)-l {
		t.Fatalf("empty set: stopped at %d hit=%v, want %d false", j, hit, len(data)-l)
	}
}

func TestWeakSet(t *testing.T) {
	tests := []struct {
		name    string
		members []uint32
		absent  []uint32
	}{
		{"empty", nil, []uint32{0, 1, 0xffffffff}},
		{"zero is a member", []uint32{0, 1, 2}, []uint32{3, 4, 0xffffffff}},
		{"colliding slots", sameSlot(5), []uint32{sameSlot(6)[5], 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := newWeakSet(len(tt.members))
			pl := make([]int32, len(tt.members))
			for i := range pl {
				pl[i] = int32(i + 10)
			}
			ws.build(tt.members, pl)
			for i, v := range tt.members {
				if got, ok := ws.lookup(v); !ok || got != int32(i+10) {
					t.Errorf("lookup(%#x) = %d, %v; want %d, true", v, got, ok, i+10)
				}
			}
			for _, v := range tt.absent {
				if _, ok := ws.lookup(v); ok {
					t.Errorf("lookup(%#x) found a non-member", v)
				}
			}
			if _, ok := ws.lookup(ws.empty); ok {
				t.Errorf("the empty marker %#x is reported as a member", ws.empty)
			}
		})
	}
}

// sameSlot returns n values that hash to the same slot of a small weakSet
// (and so probe past each other).
func sameSlot(n int) []uint32 {
	shift := newWeakSet(n).shift
	var out []uint32
	for v := uint32(1); len(out) < n; v++ {
		if slotHash(v, shift) == slotHash(1, shift) {
			out = append(out, v)
		}
	}
	return out
}
