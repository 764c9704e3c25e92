package tracker

import (
	"strings"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
)

// TestConflictPrefixes: every name conflictName gives a path, for every
// candidate number, starts with one of ConflictPrefixes and is recognized
// by IsConflictNameOf as that path's, shortened or not; names of other
// paths and names that are no conflict names are not. (Two long paths
// that agree in what a shortened name keeps of them share their shortened
// names: the other paths here differ in that part.)
func TestConflictPrefixes(t *testing.T) {
	var dev identity.DeviceID
	dev[0] = 0x42
	long := strings.Repeat("f", 240) + ".txt"
	cjk := strings.Repeat("日", 82) + ".txt"
	deepDir := strings.Repeat(strings.Repeat("d", 199)+"/", 20) // 4000 bytes
	tests := []struct {
		name     string
		path     string
		prefixes int    // how many ConflictPrefixes returns (cuts at 3-byte runes coincide)
		other    string // a path whose conflict names are not path's
	}{
		{"short name", "docs/a.txt", 1, "docs/ab.txt"},
		{"dot file", "docs/.bashrc", 1, "docs/.bash"},
		{"no extension", "Makefile", 1, "Makefile.txt"},
		{"copy of a copy without extension", "x.sync-conflict-20260102-030405-ABCDEFG", 1, "x"},
		{"long name", "d/" + long, 4, "d/g" + long[1:]},
		{"long name, other extension", "d/" + long, 4, "d/" + strings.TrimSuffix(long, ".txt") + ".md"},
		{"long name, other directory", "d/" + long, 4, "e/" + long},
		{"250-byte CJK name", "docs/" + cjk, 3, "docs/語" + cjk[3:]},
		{"long extension", "a." + strings.Repeat("x", 240), 4, "b." + strings.Repeat("x", 240)},
		{"deep directory", deepDir + strings.Repeat("f", 86) + ".txt", 4, deepDir + "g" + strings.Repeat("f", 85) + ".txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pres := ConflictPrefixes(tt.path)
			if len(pres) != tt.prefixes {
				t.Errorf("%d prefixes %q, want %d", len(pres), pres, tt.prefixes)
			}
			for _, n := range []int{1, 2, 9, 10, 99, maxConflictTries} {
				name := conflictName(tt.path, t0, dev, n)
				if !IsConflictNameOf(name, tt.path) {
					t.Errorf("candidate %d %q: not a conflict name of its path", n, name)
				}
				if IsConflictNameOf(name, tt.other) {
					t.Errorf("candidate %d %q: taken for a conflict name of %q", n, name, tt.other)
				}
				if other := conflictName(tt.other, t0, dev, n); IsConflictNameOf(other, tt.path) {
					t.Errorf("candidate %d of the other path, %q, taken for a conflict name of the path", n, other)
				}
				found := false
				for _, pre := range pres {
					found = found || strings.HasPrefix(name, pre)
				}
				if !found {
					t.Errorf("candidate %d %q starts with none of %q", n, name, pres)
				}
			}
			if IsConflictNameOf(tt.path, tt.path) || IsConflictNameOf(tt.path+".sync-conflict-x", tt.path) {
				t.Errorf("a name without a valid mark taken for a conflict name")
			}
		})
	}
}
