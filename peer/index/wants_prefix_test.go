package index

import (
	"slices"
	"testing"
)

// TestWantsWithPrefix: the wants whose paths start with a prefix, which
// may end inside a name, in walk order, after a given path, at most n.
func TestWantsWithPrefix(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var ws []Want
	for _, p := range []string{"d/a.txt", "d/a.sync-conflict-1.txt", "d/a.sync-conflict-2.txt", "d/ab", "d/a/x", "e/a.sync-conflict-1.txt", "d/a.sync-conflict"} {
		ws = append(ws, Want{Manifest: fileManifest(p, p), Seq: 1})
	}
	if err := x.Update(Batch{Wants: ws, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix string
		after  string
		n      int
		want   []string
	}{
		{"d/a.sync-conflict-", "", 10, []string{"d/a.sync-conflict-1.txt", "d/a.sync-conflict-2.txt"}},
		{"d/a.sync-conflict-", "", 1, []string{"d/a.sync-conflict-1.txt"}},
		{"d/a.sync-conflict-", "d/a.sync-conflict-1.txt", 1, []string{"d/a.sync-conflict-2.txt"}},
		{"d/a.sync-conflict-", "d/a.sync-conflict-2.txt", 1, nil},
		{"d/a.sync-conflict-", "d/a", 10, []string{"d/a.sync-conflict-1.txt", "d/a.sync-conflict-2.txt"}}, // before the range
		{"d/a.", "", 10, []string{"d/a.sync-conflict", "d/a.sync-conflict-1.txt", "d/a.sync-conflict-2.txt", "d/a.txt"}},
		{"d/a", "", 10, []string{"d/a/x", "d/a.sync-conflict", "d/a.sync-conflict-1.txt", "d/a.sync-conflict-2.txt", "d/a.txt", "d/ab"}},
		{"d/a", "d/a", 10, []string{"d/a/x", "d/a.sync-conflict", "d/a.sync-conflict-1.txt", "d/a.sync-conflict-2.txt", "d/a.txt", "d/ab"}},
		{"d/a", "d/a/x", 2, []string{"d/a.sync-conflict", "d/a.sync-conflict-1.txt"}},
		{"f/", "", 10, nil},
	} {
		got, err := x.WantsWithPrefix(tc.prefix, tc.after, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, w := range got {
			paths = append(paths, w.Manifest.Path)
		}
		if !slices.Equal(paths, tc.want) {
			t.Errorf("WantsWithPrefix(%q, %q, %d) = %q, want %q", tc.prefix, tc.after, tc.n, paths, tc.want)
		}
	}
}
