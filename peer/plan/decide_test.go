package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/delta"
	"github.com/dartsync/dartsync/manifest"
)

// planLetters writes a plan as one letter per piece of a manifest of n
// pieces: '.' not missing, s store, t twin, ? search, f found, d delta,
// w whole.
func planLetters(p Plan, n int) string {
	b := []byte(strings.Repeat(".", n))
	for _, s := range p.Steps {
		b[s.Piece] = map[Source]byte{Store: 's', Twin: 't', Search: '?', Found: 'f', Delta: 'd', Whole: 'w'}[s.From]
	}
	return string(b)
}

// TestDecide: where each piece of the wanted version comes from, before
// the rolling search ran and after, given the chunk store's hashes, the old
// version and what the search found.
func TestDecide(t *testing.T) {
	const p = 4096 // minDeltaPiece: a delta pays from here
	tests := []struct {
		name    string
		old     string // the old version's pieces ("": none)
		oldSize int64  // 0: len(old) pieces of p
		noBasis bool   // the old version cannot be read
		nw      string // the wanted version's pieces
		size    int64  // 0: len(nw) pieces of p
		have    []int  // pieces already in the partial
		stored  string // hashes the chunk store holds
		found   []delta.Match
		before  string        // the plan before the search
		after   string        // the plan after it
		deltas  []delta.Range // basis bytes of the Delta steps after it
	}{
		{name: "new file", nw: "abcd", before: "wwww", after: "wwww"},
		{name: "nothing local, old version unreadable", old: "abc", noBasis: true, nw: "XYZ", before: "www", after: "www"},
		{name: "everything local", old: "abcd", nw: "dcba", stored: "abcd", before: "ssss", after: "ssss"},
		{name: "everything local, some already here", nw: "abcd", have: []int{0, 2}, stored: "abcd", before: ".s.s", after: ".s.s"},
		{name: "piece held by another file", nw: "abXd", stored: "abd", before: "ssws", after: "ssws"},
		{name: "append a piece", old: "abcd", nw: "abcdX", stored: "abcd", before: "ssss?", after: "ssssw"},
		{name: "append a short piece", old: "abcd", nw: "abcdX", size: 4*p + 100, stored: "abcd", before: "ssss?", after: "ssssw"},
		{
			name: "insert one byte into piece 2", old: "abcdef", nw: "abXYZWV", size: 6*p + 1, stored: "abcdef",
			found:  []delta.Match{{Piece: 3, Offset: 3*p - 1}, {Piece: 4, Offset: 4*p - 1}, {Piece: 5, Offset: 5*p - 1}},
			before: "ss?????", after: "ssdfffw", deltas: []delta.Range{{Off: 2 * p, Len: p}},
		},
		{
			name: "scattered edits in place", old: "abcdef", nw: "aXcdYf", stored: "abcdef",
			before: "sdssds", after: "sdssds", deltas: []delta.Range{{Off: p, Len: p}, {Off: 4 * p, Len: p}},
		},
		{
			name: "whole rewrite, nothing found", old: "abcd", nw: "WXYZ", stored: "abcd",
			before: "????", after: "dddd", deltas: []delta.Range{{Off: 0, Len: p}, {Off: p, Len: p}, {Off: 2 * p, Len: p}, {Off: 3 * p, Len: p}},
		},
		{name: "identical pieces repeated, in the store", nw: "aaXaa", stored: "a", before: "stwtt", after: "stwtt"},
		{
			name: "identical pieces repeated, found", old: "abcd", nw: "XYXY", stored: "abcd",
			found:  []delta.Match{{Piece: 0, Offset: 100}, {Piece: 1, Offset: 100 + p}, {Piece: 2, Offset: 100}, {Piece: 3, Offset: 100 + p}},
			before: "????", after: "fftt",
		},
		{
			name: "identical edits repeated, in place", old: "abcdef", nw: "aXcdXf", stored: "abcdef",
			before: "sdssts", after: "sdssts", deltas: []delta.Range{{Off: p, Len: p}},
		},
		{
			name: "deleted bytes: the basis range reaches the next found piece", old: "abcdef", nw: "abXDEF", size: 6*p - 50,
			stored: "ab", found: []delta.Match{{Piece: 3, Offset: 3*p + 50}, {Piece: 4, Offset: 4*p + 50}},
			before: "ss????", after: "ssdffw", deltas: []delta.Range{{Off: 2 * p, Len: p + 50}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := synthManifest(orDefault(tc.size, int64(len(tc.nw))*p), p, tc.nw)
			in := Input{Manifest: m}
			for i := range m.Pieces {
				if !slices.Contains(tc.have, i) {
					in.Missing = append(in.Missing, i)
					in.Stored = append(in.Stored, strings.ContainsRune(tc.stored, rune(tc.nw[i])))
				}
			}
			if tc.old != "" {
				in.Old = synthManifest(orDefault(tc.oldSize, int64(len(tc.old))*p), p, tc.old)
				if !tc.noBasis {
					in.BasisSize = in.Old.Size
				}
			}
			if got := planLetters(Decide(in), len(m.Pieces)); got != tc.before {
				t.Errorf("before the search: %s, want %s", got, tc.before)
			}
			in.Searched, in.Found = true, tc.found
			after := Decide(in)
			if got := planLetters(after, len(m.Pieces)); got != tc.after {
				t.Errorf("after the search: %s, want %s", got, tc.after)
			}
			var deltas []delta.Range
			for _, s := range after.Steps {
				switch s.From {
				case Delta:
					deltas = append(deltas, delta.Range{Off: s.Off, Len: s.Len})
				case Found:
					if k := slices.IndexFunc(tc.found, func(mt delta.Match) bool { return mt.Piece == s.Piece }); k < 0 || s.Off != tc.found[k].Offset || s.Len != m.PieceLen(s.Piece) {
						t.Errorf("found step %+v does not match the search", s)
					}
				}
			}
			if !slices.Equal(deltas, tc.deltas) {
				t.Errorf("delta basis ranges %v, want %v", deltas, tc.deltas)
			}
		})
	}
}

func orDefault(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

// synthManifest is a manifest of size bytes whose piece i has the hash
// named by ids[i] (pieces with equal names are equal).
func synthManifest(size, pieceSize int64, ids string) *manifest.Manifest {
	m := &manifest.Manifest{Size: size, PieceSize: pieceSize}
	for _, c := range ids {
		m.Pieces = append(m.Pieces, manifest.Piece{Hash: manifest.Hash([]byte{byte(c)})})
	}
	return m
}

func TestSplitInPlace(t *testing.T) {
	const p = 4096
	old := synthManifest(6*p, p, "abcdef")
	tests := []struct {
		name          string
		nw            *manifest.Manifest
		want          []int
		inPlace, srch []int
	}{
		{"one piece overwritten", synthManifest(6*p, p, "abXdef"), []int{2}, []int{2}, nil},
		{"first piece", synthManifest(6*p, p, "Xbcdef"), []int{0}, []int{0}, nil},
		{"two adjacent", synthManifest(6*p, p, "abXYef"), []int{2, 3}, []int{2, 3}, nil},
		{"three adjacent: maybe shifted", synthManifest(6*p, p, "aXYZef"), []int{1, 2, 3}, nil, []int{1, 2, 3}},
		{"two separate runs", synthManifest(6*p, p, "Xbcdeg"), []int{0, 5}, []int{0, 5}, nil},
		{"last piece, same size", synthManifest(6*p, p, "abcdeX"), []int{5}, []int{5}, nil},
		{"last piece, longer", synthManifest(6*p+1, p, "abcdeXY"), []int{5, 6}, nil, []int{5, 6}},
		{"insertion shifts the rest", synthManifest(6*p+1, p, "abXYZWV"), []int{2, 3, 4, 5, 6}, nil, []int{2, 3, 4, 5, 6}},
		{"only some wanted", synthManifest(6*p, p, "abXdeY"), []int{5}, []int{5}, nil},
		{"other piece size", synthManifest(6*p, 2*p, "XYZ"), []int{0, 1, 2}, nil, []int{0, 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, srch := splitInPlace(old, tc.nw, tc.want)
			if !slices.Equal(in, tc.inPlace) || !slices.Equal(srch, tc.srch) {
				t.Errorf("in place %v, search %v; want %v, %v", in, srch, tc.inPlace, tc.srch)
			}
		})
	}
}
