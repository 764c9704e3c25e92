package index

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

// walkPaths are paths whose walk order differs from string order around
// '/', '.', '-' and prefixes.
var walkPaths = []string{
	"a", "a/b", "a/b/c", "a/b/c.d", "a/b-c", "a/b.c", "a/bc", "a-b", "a.txt", "a0", "ab", "ab/c",
	"b", "b/a/a/a", "b/a/a.a", "b/a-", "b.", "z", "é/x", "é.x",
}

// TestPagesInWalkOrder: Page and WantsPage list every path once, in
// ComparePaths order, whatever the page size, and start after a path that
// has no entry as after one that has.
func TestPagesInWalkOrder(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var b Batch
	for i, p := range walkPaths {
		b.Put = append(b.Put, Entry{Manifest: fileManifest(p, p)})
		b.Wants = append(b.Wants, Want{Manifest: fileManifest(p, p+"'"), Owners: []identity.DeviceID{{1}}, Seq: uint64(i + 1)})
	}
	if err := x.Update(b); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(walkPaths)
	slices.SortFunc(want, ComparePaths)
	for n := 1; n <= len(want)+1; n++ {
		var got, gotWants []string
		for after := ""; ; {
			page, err := x.Page(after, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			if len(page) > n {
				t.Fatalf("page of %d, asked %d", len(page), n)
			}
			for _, e := range page {
				got = append(got, e.Manifest.Path)
			}
			after = page[len(page)-1].Manifest.Path
		}
		for after := ""; ; {
			page, err := x.WantsPage(after, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, w := range page {
				gotWants = append(gotWants, w.Manifest.Path)
			}
			after = page[len(page)-1].Manifest.Path
		}
		if !slices.Equal(got, want) || !slices.Equal(gotWants, want) {
			t.Fatalf("pages of %d: entries %q, wants %q; want %q", n, got, gotWants, want)
		}
	}
	for _, after := range []string{"a/b/", "a/b/c/d", "a.", "aa", "b/a", "zz"} {
		page, err := x.Page(after, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range page {
			got = append(got, e.Manifest.Path)
		}
		var exp []string
		for _, p := range want {
			if ComparePaths(p, after) > 0 {
				exp = append(exp, p)
			}
		}
		if !slices.Equal(got, exp) {
			t.Errorf("Page(%q) = %q, want %q", after, got, exp)
		}
	}
	// The deprecated whole lists keep their string order.
	sorted := slices.Clone(walkPaths)
	slices.Sort(sorted)
	if got := x.Paths(); !slices.Equal(got, sorted) {
		t.Errorf("Paths = %q, want %q", got, sorted)
	}
	ws, err := x.Wants()
	if err != nil || len(ws) != len(sorted) || ws[0].Manifest.Path != sorted[0] || ws[len(ws)-1].Manifest.Path != sorted[len(sorted)-1] {
		t.Errorf("Wants = %d, %v", len(ws), err)
	}
}

// TestHistoryOfNestedPathsIsSeparate: the history of "a" holds none of
// "a/b"'s (their keys share the encoded prefix "a\0"), nor the other way.
func TestHistoryOfNestedPathsIsSeparate(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for _, p := range []string{"a", "a/b", "a/b/c", "a.b"} {
		for i := range 3 {
			x.Stage(Entry{Manifest: fileManifest(p, fmt.Sprint(p, i))})
		}
	}
	for _, p := range []string{"a", "a/b", "a/b/c", "a.b"} {
		h, err := x.History(p)
		want := []manifest.ID{fileManifest(p, p+"1").ID, fileManifest(p, p+"0").ID}
		if err != nil || !slices.Equal(h, want) {
			t.Errorf("History(%q) = %v %v, want %v", p, h, err, want)
		}
	}
}
