package manifest

import (
	"slices"
	"testing"
)

// lettered is a manifest whose piece i has the hash named by ids[i]
// (equal letters, equal hashes).
func lettered(ids string) *Manifest {
	m := &Manifest{PieceSize: 1, Size: int64(len(ids))}
	for _, c := range ids {
		m.Pieces = append(m.Pieces, Piece{Hash: Hash([]byte{byte(c)})})
	}
	return m
}

func TestRepeatsAndDistinct(t *testing.T) {
	tests := []struct {
		name     string
		ids      string
		idx      []int
		repeats  []Repeat
		distinct []int
	}{
		{"empty", "", nil, nil, nil},
		{"one", "a", []int{0}, nil, []int{0}},
		{"all differ", "abcd", []int{0, 1, 2, 3}, nil, []int{0, 1, 2, 3}},
		{"all equal", "aaaa", []int{0, 1, 2, 3}, []Repeat{{0, 1}, {0, 2}, {0, 3}}, []int{0}},
		{"interleaved", "abab", []int{0, 1, 2, 3}, []Repeat{{0, 2}, {1, 3}}, []int{0, 1}},
		{"subset, positions in idx", "abcab", []int{1, 3, 4}, []Repeat{{0, 2}}, []int{1, 3}},
		{"order of idx kept", "xayaz", []int{4, 3, 1, 0}, []Repeat{{1, 2}}, []int{4, 3, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := lettered(tc.ids)
			got := Repeats(len(tc.idx), func(k int) *ID { return &m.Pieces[tc.idx[k]].Hash })
			if !slices.Equal(got, tc.repeats) {
				t.Errorf("Repeats %v, want %v", got, tc.repeats)
			}
			if got := Distinct(m, tc.idx); !slices.Equal(got, tc.distinct) {
				t.Errorf("Distinct %v, want %v", got, tc.distinct)
			}
		})
	}
}
