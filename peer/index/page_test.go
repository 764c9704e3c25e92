package index

import (
	"slices"
	"testing"
)

func TestComparePaths(t *testing.T) {
	sorted := []string{"a", "a/b", "a/b/c", "a/c", "a.txt", "a0", "ab", "b"}
	for i := range sorted {
		for j := range sorted {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := ComparePaths(sorted[i], sorted[j]); got != want {
				t.Errorf("ComparePaths(%q, %q) = %d, want %d", sorted[i], sorted[j], got, want)
			}
		}
	}
}

func TestPageWalksInWalkOrder(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	paths := []string{"b", "a.txt", "a/c", "a/b", "a", "ab"}
	var b Batch
	for _, p := range paths {
		b.Put = append(b.Put, Entry{Manifest: fileManifest(p, p)})
	}
	if err := x.Update(b); err != nil {
		t.Fatal(err)
	}
	var got []string
	after := ""
	for {
		page, err := x.Page(after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			got = append(got, e.Manifest.Path)
		}
		after = page[len(page)-1].Manifest.Path
	}
	want := []string{"a", "a/b", "a/c", "a.txt", "ab", "b"}
	if !slices.Equal(got, want) {
		t.Fatalf("pages = %q, want %q", got, want)
	}
}
