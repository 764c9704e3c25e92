package delta

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

func TestNormalizeRanges(t *testing.T) {
	got := normalizeRanges([]Range{{50, 10}, {0, 10}, {10, 5}, {-5, 3}, {55, 20}, {90, 0}, {95, 100}, {200, 1}}, 100)
	want := []Range{{0, 15}, {50, 25}, {95, 5}}
	if !slices.Equal(got, want) {
		t.Fatalf("normalizeRanges = %v, want %v", got, want)
	}
}

func TestKnownRanges(t *testing.T) {
	const ps = 4096
	old := randBytes(600, 10*ps)
	nw := slices.Clone(old)
	copy(nw[3*ps+10:], []byte("edit"))
	copy(nw[7*ps+10:], []byte("edit"))
	mOld, mNew := manifestOf(old, ps), manifestOf(nw, ps)
	got := KnownRanges(mOld, mNew, []int{3, 7})
	want := []Range{{0, 3 * ps}, {4 * ps, 3 * ps}, {8 * ps, 2 * ps}}
	if !slices.Equal(got, want) {
		t.Fatalf("KnownRanges = %v, want %v", got, want)
	}
	// A wanted hash is never known, even where the target also has it.
	if got := KnownRanges(mOld, mOld, []int{0}); len(got) == 0 || got[0].Off == 0 {
		t.Fatalf("piece 0 is wanted but reported known: %v", got)
	}
}

// With known ranges Find rolls only over changed pieces and reads little
// else.
func TestFindKnownScattered(t *testing.T) {
	const ps = 4096
	old := randBytes(610, 400*ps)
	nw := slices.Clone(old)
	var want []int
	for _, k := range []int{5, 77, 200, 399} {
		copy(nw[k*ps+100:], randBytes(uint64(k), 64))
		want = append(want, k)
	}
	mOld, mNew := manifestOf(old, ps), manifestOf(nw, ps)
	known := KnownRanges(mOld, mNew, want)
	res, err := FindKnown(context.Background(), bytes.NewReader(old), int64(len(old)), mNew, want, known)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 0 {
		t.Fatalf("found %v in edited pieces", res.Matches)
	}
	if res.Stats.Rolled > int64(len(want))*ps {
		t.Errorf("rolled %d positions for %d changed pieces of %d", res.Stats.Rolled, len(want), ps)
	}
	if res.Stats.Known != int64(len(old)-len(want)*ps) {
		t.Errorf("skipped %d known bytes, want %d", res.Stats.Known, len(old)-len(want)*ps)
	}
	if res.Stats.Strong != 0 {
		t.Errorf("%d strong hashes, want none", res.Stats.Strong)
	}
	if res.Stats.Read > int64(len(want))*2*ps {
		t.Errorf("read %d bytes for %d changed pieces of %d", res.Stats.Read, len(want), ps)
	}
}

// Shifted pieces between known ranges are still found.
func TestFindKnownShifted(t *testing.T) {
	const ps = 4096
	old := randBytes(620, 300*ps+500)
	nw := splice(splice(old, 100*ps+7, 0, []byte("ins")), 200*ps+9, 3, nil)
	mOld, mNew := manifestOf(old, ps), manifestOf(nw, ps)
	var want []int
	have := map[manifest.ID]bool{}
	for _, p := range mOld.Pieces {
		have[p.Hash] = true
	}
	for i, p := range mNew.Pieces {
		if !have[p.Hash] {
			want = append(want, i)
		}
	}
	known := KnownRanges(mOld, mNew, want)
	res, err := FindKnown(context.Background(), bytes.NewReader(old), int64(len(old)), mNew, want, known)
	if err != nil {
		t.Fatal(err)
	}
	full, err := Find(context.Background(), bytes.NewReader(old), int64(len(old)), mNew, want)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Matches, full.Matches) {
		t.Fatalf("FindKnown found %d pieces, Find %d", len(res.Matches), len(full.Matches))
	}
	if len(res.Matches) < len(want)-2 {
		t.Fatalf("found %d of %d wanted pieces", len(res.Matches), len(want))
	}
	if res.Stats.Read >= full.Stats.Read {
		t.Errorf("FindKnown read %d bytes, Find %d", res.Stats.Read, full.Stats.Read)
	}
}
