package index

import (
	"errors"
	"slices"
	"testing"
)

// viewPaths walks v in pages of two and returns the wanted paths.
func viewPaths(t *testing.T, v *WantsView) []string {
	t.Helper()
	var got []string
	after := ""
	for {
		page, err := v.Page(after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return got
		}
		for _, w := range page {
			got = append(got, w.Manifest.Path)
		}
		after = page[len(page)-1].Manifest.Path
	}
}

// TestWantsViewKeepsItsWants: a view lists the wants stored when it was
// taken, in walk order, however the store changes while it is walked:
// wants stored later are not in it, wants finished later still are.
func TestWantsViewKeepsItsWants(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var before []Want
	for _, p := range []string{"b", "a.txt", "a/c", "a"} {
		before = append(before, Want{Manifest: fileManifest(p, p), Seq: 1})
	}
	if err := x.Update(Batch{Wants: before, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	v, err := x.ViewWants()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	later := []Want{{Manifest: fileManifest("a.sync-conflict", "later"), Seq: 2}, {Manifest: fileManifest("0", "later"), Seq: 2}}
	if err := x.Update(Batch{Wants: later, DoneWants: []Done{{Path: "b", ID: before[0].Manifest.ID}}, Seq: 2}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "a/c", "a.txt", "b"}
	if got := viewPaths(t, v); !slices.Equal(got, want) {
		t.Errorf("view = %q, want %q", got, want)
	}
	// The store itself has moved on.
	live, err := x.WantsPage("", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range live {
		got = append(got, w.Manifest.Path)
	}
	if want := []string{"0", "a", "a/c", "a.sync-conflict", "a.txt"}; !slices.Equal(got, want) {
		t.Errorf("store = %q, want %q", got, want)
	}
}

// TestWantsViewAfterClose: closing the index with a view open releases
// the view (no error), and the view then reads ErrClosed; closing the
// view afterwards, or twice, does nothing.
func TestWantsViewAfterClose(t *testing.T) {
	x, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Update(Batch{Wants: []Want{{Manifest: fileManifest("w", "w"), Seq: 1}}, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	v, err := x.ViewWants()
	if err != nil {
		t.Fatal(err)
	}
	closed, err := x.ViewWants()
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatalf("Close with a view open: %v", err)
	}
	if _, err := v.Page("", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Page after the index closed: %v, want ErrClosed", err)
	}
	if err := v.Close(); err != nil {
		t.Errorf("view Close after the index closed: %v", err)
	}
	if err := v.Close(); err != nil {
		t.Errorf("second view Close: %v", err)
	}
	if _, err := x.ViewWants(); !errors.Is(err, ErrClosed) {
		t.Errorf("ViewWants after Close: %v, want ErrClosed", err)
	}
}
