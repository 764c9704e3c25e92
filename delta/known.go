package delta

import (
	"slices"

	"github.com/dartsync/dartsync/manifest"
)

// Range is a byte range of a basis.
type Range struct{ Off, Len int64 }

// KnownRanges returns the byte ranges of a basis whose own manifest is
// basis that hold pieces of target the caller does not want: the basis
// pieces whose hashes are target pieces outside want (pieces the caller
// already has). FindKnown skips them. A stale basis manifest only costs
// matches, never a wrong one: every match is still confirmed with BLAKE3.
func KnownRanges(basis, target *manifest.Manifest, want []int) []Range {
	if basis == nil || target == nil || basis.PieceSize <= 0 {
		return nil
	}
	wanted := make(map[int]bool, len(want))
	for _, i := range want {
		wanted[i] = true
	}
	have := make(map[manifest.ID]bool, len(target.Pieces))
	for i, p := range target.Pieces {
		if !wanted[i] {
			have[p.Hash] = true
		}
	}
	for _, i := range want {
		if i >= 0 && i < len(target.Pieces) {
			delete(have, target.Pieces[i].Hash) // wanted, even if also had elsewhere
		}
	}
	var out []Range
	for k, p := range basis.Pieces {
		if have[p.Hash] {
			out = append(out, Range{Off: basis.PieceOffset(k), Len: basis.PieceLen(k)})
		}
	}
	return normalizeRanges(out, 1<<62)
}

// normalizeRanges sorts rs, drops empty ones, clamps them to [0, size) and
// merges overlapping and touching ones.
func normalizeRanges(rs []Range, size int64) []Range {
	var out []Range
	for _, r := range rs {
		lo, hi := max(r.Off, 0), min(r.Off+max(r.Len, 0), size)
		if r.Len > 0 && r.Off < size && hi > lo {
			out = append(out, Range{lo, hi - lo})
		}
	}
	slices.SortFunc(out, func(a, b Range) int {
		switch {
		case a.Off < b.Off:
			return -1
		case a.Off > b.Off:
			return 1
		}
		return 0
	})
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && merged[n-1].Off+merged[n-1].Len >= r.Off {
			merged[n-1].Len = max(merged[n-1].Len, r.Off+r.Len-merged[n-1].Off)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// knownAt returns the end of the known range holding pos, if any, and the
// start of the next known range at or after pos (or -1). It advances
// f.nextKnown, so positions must be asked for in increasing order.
func (f *finder) knownAt(pos int64) (end int64, inside bool, next int64) {
	for f.nextKnown < len(f.known) && f.known[f.nextKnown].Off+f.known[f.nextKnown].Len <= pos {
		f.nextKnown++
	}
	if f.nextKnown == len(f.known) {
		return 0, false, -1
	}
	r := f.known[f.nextKnown]
	if r.Off <= pos {
		return r.Off + r.Len, true, r.Off
	}
	return 0, false, r.Off
}
