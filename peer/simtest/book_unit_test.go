package simtest

import (
	"testing"
	"time"
)

// TestTimelineLongest: the stretches the checks rely on.
func TestTimelineLongest(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tl := newTimeline()
	tl.markAt(trackerWho, true, at(0))
	tl.markAt(0, true, at(1))
	tl.markAt(1, true, at(2))
	tl.markAt(trackerWho, false, at(5)) // tracker down 5..6
	tl.markAt(trackerWho, true, at(6))
	tl.markAt(1, false, at(10))
	tl.markAt(1, true, at(9)) // clamped to 10: never before its previous event
	tl.markAt(0, false, at(30))
	both := func(up map[int]bool) bool { return up[trackerWho] && up[0] && up[1] }
	for _, tc := range []struct {
		from, to int
		want     time.Duration
	}{
		{0, 20, 14 * time.Second}, // 1's down and up are both at 10: one stretch 6..20
		{0, 9, 3 * time.Second},   // 2..5 and 6..9
		{0, 2, 0},
		{3, 4, time.Second},
		{25, 40, 5 * time.Second}, // 0 down at 30
	} {
		if got := tl.longest(at(tc.from), at(tc.to), both); got != tc.want {
			t.Errorf("longest(%d, %d) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}

// TestRequired: which versions the check holds to account (doc.go, "Could
// sync").
func TestRequired(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		name     string
		replaced []replacement // of the version "v" written by p0 at "x" at 1000 ms
		p1Down   bool          // p1 stopped at 0 and never started
		want     bool
	}{
		{"never replaced", nil, false, true},
		{"never replaced, no other peer up", nil, true, true},
		{"author replaced it at once", []replacement{{0, "x", "v", at(1100)}}, false, false},
		{"author replaced it late", []replacement{{0, "x", "v", at(9000)}}, false, true},
		{"author replaced it late, nobody to sync to", []replacement{{0, "x", "v", at(9000)}}, true, false},
		{"every holder replaced it", []replacement{{0, "x", "v", at(9000)}, {1, "x", "v", at(9500)}}, false, false},
		{"another holder replaced it, the author did not", []replacement{{1, "x", "v", at(9500)}}, false, true},
		{"the author replaced other content", []replacement{{0, "x", "w", at(1100)}}, false, true},
		{"the author replaced it at another path", []replacement{{0, "y", "v", at(1100)}}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &run{st: settings{window: 3 * time.Second}, peers: make([]*simPeer, 2), tl: newTimeline(), book: newBook()}
			r.tl.markAt(trackerWho, true, at(0))
			r.tl.markAt(0, true, at(0))
			r.tl.markAt(1, !tc.p1Down, at(0))
			v := &version{peer: 0, path: "x", sum: "v", start: at(1000)}
			r.book.replaced = tc.replaced
			if got := r.required(v, map[string]bool{"x": true}); got != tc.want {
				t.Fatalf("required = %v, want %v", got, tc.want)
			}
		})
	}
}
