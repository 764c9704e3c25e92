package delta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// checkMatches verifies that every match is true (the basis bytes at the
// offset hash to the piece) and that every wanted full-length piece present
// somewhere in basis is reported. It returns the matched piece indices.
func checkMatches(t *testing.T, target, basis []byte, m *manifest.Manifest, want []int, res FindResult) []int {
	t.Helper()
	var got []int
	for _, mt := range res.Matches {
		n := int(m.PieceLen(mt.Piece))
		if mt.Offset < 0 || mt.Offset+int64(n) > int64(len(basis)) {
			t.Fatalf("match %+v outside the basis", mt)
		}
		if manifest.Hash(basis[mt.Offset:mt.Offset+int64(n)]) != m.Pieces[mt.Piece].Hash {
			t.Fatalf("match %+v: basis bytes do not hash to the piece", mt)
		}
		if !slices.Contains(want, mt.Piece) {
			t.Fatalf("match %+v: piece not wanted", mt)
		}
		got = append(got, mt.Piece)
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Fatalf("matches not sorted or repeated: %v", got)
	}
	for _, i := range want {
		if m.PieceLen(i) != m.PieceSize {
			continue
		}
		off := m.PieceOffset(i)
		if bytes.Contains(basis, target[off:off+m.PieceSize]) && !slices.Contains(got, i) {
			t.Errorf("piece %d is in the basis but was not found", i)
		}
	}
	return got
}

func TestFindShifted(t *testing.T) {
	const ps = 4096
	target := randBytes(10, 40*ps+1000) // 41 pieces, the last one short
	m := manifestOf(target, ps)
	n := len(m.Pieces)
	ins := randBytes(11, 100)
	tests := []struct {
		name      string
		basis     []byte
		wantFound []int // pieces that must be found (beyond what checkMatches demands)
		maxRolled int64 // bound on bytes rolled: about one piece per edit
	}{
		{"identical", target, all(n), 0},
		{"insert at start", splice(target, 0, 0, ins), all(n), 2 * ps},
		{"delete at start", splice(target, 0, 100, nil), all(n)[1:], 2 * ps},
		{"insert in middle", splice(target, 20*ps+17, 0, ins), slices.Delete(all(n), 20, 21), 2 * ps},
		{"delete in middle", splice(target, 20*ps+17, 300, nil), slices.Delete(all(n), 20, 21), 2 * ps},
		{"insert at piece boundary", splice(target, 20*ps, 0, ins), all(n), 2 * ps},
		{"one byte inserted across a boundary", splice(target, 20*ps-1, 0, []byte{7}), slices.Delete(all(n), 19, 20), 2 * ps},
		{"replace across a boundary", splice(target, 20*ps-50, 100, ins), slices.Delete(all(n), 19, 21), 3 * ps},
		{"insert near end", splice(target, len(target)-10, 0, ins), all(n - 1), 2 * ps},
		{"append", append(slices.Clone(target), ins...), all(n), 0},
		{"truncate last piece", target[:len(target)-500], all(n - 1), 0},
		{"pieces reordered", slices.Concat(target[30*ps:40*ps], target[:30*ps], target[40*ps:]), all(n), 3 * ps},
		{"prefix garbage", slices.Concat(randBytes(12, 3*ps+5), target), all(n), 4 * ps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := all(n)
			res, err := Find(context.Background(), bytes.NewReader(tt.basis), int64(len(tt.basis)), m, want)
			if err != nil {
				t.Fatal(err)
			}
			got := checkMatches(t, target, tt.basis, m, want, res)
			for _, i := range tt.wantFound {
				if !slices.Contains(got, i) {
					t.Errorf("piece %d not found; found %v", i, got)
				}
			}
			if res.Stats.Rolled > tt.maxRolled {
				t.Errorf("rolled %d bytes, want at most %d", res.Stats.Rolled, tt.maxRolled)
			}
			if res.Stats.Read > int64(len(tt.basis)+2*(len(target)%ps)) {
				t.Errorf("read %d bytes of a %d-byte basis", res.Stats.Read, len(tt.basis))
			}
		})
	}
}

func TestFindWantedSubset(t *testing.T) {
	const ps = 4096
	target := randBytes(20, 256*ps)
	m := manifestOf(target, ps)
	basis := splice(target, 5*ps+3, 0, []byte("x"))
	want := []int{1, 9, 12, 15, 100}
	res, err := Find(context.Background(), bytes.NewReader(basis), int64(len(basis)), m, want)
	if err != nil {
		t.Fatal(err)
	}
	if got := checkMatches(t, target, basis, m, want, res); !slices.Equal(got, want) {
		t.Fatalf("found %v, want %v", got, want)
	}
	// Once everything wanted is found the scan stops.
	if res.Stats.Read >= int64(len(basis))*3/4 {
		t.Errorf("read %d bytes of %d although all pieces were found by piece 100", res.Stats.Read, len(basis))
	}
}

func TestFindUnrelatedFindsNothing(t *testing.T) {
	const ps = 4096
	target := randBytes(30, 64*ps+123)
	m := manifestOf(target, ps)
	basis := randBytes(31, 70*ps)
	res, err := Find(context.Background(), bytes.NewReader(basis), int64(len(basis)), m, all(len(m.Pieces)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 0 {
		t.Fatalf("found %v in unrelated data", res.Matches)
	}
	if want := int64(len(basis) - ps + 1); res.Stats.Rolled != want-1 && res.Stats.Rolled != want {
		t.Errorf("rolled %d positions, want every position (%d)", res.Stats.Rolled, want)
	}
}

func TestFindDuplicatePieces(t *testing.T) {
	const ps = 4096
	p := randBytes(40, ps)
	target := slices.Concat(p, randBytes(41, ps), p, p)
	m := manifestOf(target, ps)
	basis := slices.Concat(randBytes(42, 999), p)
	res, err := Find(context.Background(), bytes.NewReader(basis), int64(len(basis)), m, all(4))
	if err != nil {
		t.Fatal(err)
	}
	want := []Match{{0, 999}, {2, 999}, {3, 999}}
	if !slices.Equal(res.Matches, want) {
		t.Fatalf("matches %v, want %v", res.Matches, want)
	}
}

// A window with the weak checksum of a wanted piece but other bytes must not
// be reported.
func TestFindWeakCollision(t *testing.T) {
	const ps = 4096
	target := randBytes(50, 8*ps)
	m := manifestOf(target, ps)
	fake := slices.Clone(target[3*ps : 4*ps])
	tweak(fake, tweakable(fake))
	if manifest.WeakSum(fake) != m.Pieces[3].Weak || manifest.Hash(fake) == m.Pieces[3].Hash {
		t.Fatal("test setup: the tweak must keep the weak checksum and change the hash")
	}
	basis := slices.Concat(randBytes(51, 777), fake, randBytes(52, 500))
	res, err := Find(context.Background(), bytes.NewReader(basis), int64(len(basis)), m, all(8))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 0 {
		t.Fatalf("a weak collision was reported as a match: %v", res.Matches)
	}
	if res.Stats.Failed == 0 {
		t.Errorf("the collision at 777 was not strong-checked (stats %+v)", res.Stats)
	}
}

// Data made so that every window collides must cost a bounded number of
// strong hashes, not one per byte.
func TestFindAdversarialCollisionsBounded(t *testing.T) {
	const ps = 4096
	piece := bytes.Repeat([]byte{0x40}, ps)
	tweak(piece, 100) // same weak checksum as any window of 0x40 bytes
	target := slices.Concat(piece, randBytes(60, ps))
	m := manifestOf(target, ps)
	basis := bytes.Repeat([]byte{0x40}, 64*ps)
	res, err := Find(context.Background(), bytes.NewReader(basis), int64(len(basis)), m, all(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 0 {
		t.Fatalf("matches %v in colliding data", res.Matches)
	}
	limit := failStart + int((res.Stats.Rolled+res.Stats.Jumped)*failPerWindow/ps) + 1
	if res.Stats.Strong > limit || res.Stats.Skipped == 0 {
		t.Fatalf("%d strong hashes over %d positions (limit %d), %d skipped", res.Stats.Strong, res.Stats.Rolled, limit, res.Stats.Skipped)
	}
}

func TestFindShortLastPiece(t *testing.T) {
	const ps = 4096
	target := randBytes(70, 5*ps+300)
	m := manifestOf(target, ps)
	last := len(m.Pieces) - 1
	tail := target[5*ps:]
	tests := []struct {
		name  string
		basis []byte
		found bool
	}{
		{"own offset", slices.Concat(randBytes(71, 5*ps), tail, randBytes(72, 50)), true},
		{"end of basis", slices.Concat(randBytes(73, 3*ps+5), tail), true},
		{"after the piece before it", slices.Concat(randBytes(74, 33), target[4*ps:], randBytes(75, 9000)), true},
		{"elsewhere", slices.Concat(randBytes(76, 1000), tail, randBytes(77, 3*ps)), false},
		{"basis shorter than a piece", slices.Clone(tail), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Find(context.Background(), bytes.NewReader(tt.basis), int64(len(tt.basis)), m, []int{last})
			if err != nil {
				t.Fatal(err)
			}
			got := checkMatches(t, target, tt.basis, m, []int{last}, res)
			if found := slices.Contains(got, last); found != tt.found {
				t.Fatalf("last piece found=%v, want %v", found, tt.found)
			}
		})
	}
}

type errReaderAt struct{ err error }

func (e errReaderAt) ReadAt(p []byte, off int64) (int, error) { return 0, e.err }

func TestFindErrors(t *testing.T) {
	const ps = 4096
	target := randBytes(80, 3*ps)
	m := manifestOf(target, ps)
	ioErr := errors.New("disk on fire")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	bad := *m
	bad.Pieces = bad.Pieces[:2]
	zero := *m
	zero.PieceSize = 0
	tests := []struct {
		name  string
		ctx   context.Context
		basis io.ReaderAt
		size  int64
		m     *manifest.Manifest
		want  []int
		err   error
	}{
		{"nil manifest", context.Background(), bytes.NewReader(target), 10, nil, nil, ErrBadRequest},
		{"piece count", context.Background(), bytes.NewReader(target), 10, &bad, nil, ErrBadRequest},
		{"zero piece size", context.Background(), bytes.NewReader(target), 10, &zero, nil, ErrBadRequest},
		{"wanted out of range", context.Background(), bytes.NewReader(target), 10, m, []int{3}, ErrBadRequest},
		{"negative wanted", context.Background(), bytes.NewReader(target), 10, m, []int{-1}, ErrBadRequest},
		{"negative size", context.Background(), bytes.NewReader(target), -1, m, []int{0}, ErrBadRequest},
		{"basis shorter than stated", context.Background(), bytes.NewReader(target), 4 * ps, m, []int{0}, io.ErrUnexpectedEOF},
		{"read error", context.Background(), errReaderAt{ioErr}, 4 * ps, m, []int{0}, ioErr},
		{"canceled", canceled, bytes.NewReader(target), 3 * ps, m, []int{0}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Find(tt.ctx, tt.basis, tt.size, tt.m, tt.want)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestFindNothingWanted(t *testing.T) {
	target := randBytes(90, 10000)
	m := manifestOf(target, 4096)
	res, err := Find(context.Background(), errReaderAt{fmt.Errorf("must not read")}, 10000, m, nil)
	if err != nil || len(res.Matches) != 0 || res.Stats.Read != 0 {
		t.Fatalf("Find with nothing wanted: %v, %+v", err, res)
	}
}

// A basis several buffers long, with edits near every buffer boundary, is
// scanned across refills without losing matches or the rolling state.
func TestFindAcrossBufferRefills(t *testing.T) {
	const ps = 4096
	target := randBytes(95, 600*ps+77)
	m := manifestOf(target, ps)
	basis := target
	// Edits at and around multiples of the buffer length (ps+minBuffer),
	// from the back so earlier offsets stay put.
	for k := 9; k >= 1; k-- {
		at := k*(ps+minBuffer) - 3 + k%4
		if k%2 == 0 {
			basis = splice(basis, at, 0, randBytes(uint64(k), k*37))
		} else {
			basis = splice(basis, at, k*11, nil)
		}
	}
	want := all(len(m.Pieces))
	res, err := Find(context.Background(), bytes.NewReader(basis), int64(len(basis)), m, want)
	if err != nil {
		t.Fatal(err)
	}
	got := checkMatches(t, target, basis, m, want, res)
	// checkMatches demands every piece still in the basis; an edit touches
	// at most two pieces.
	if len(got) < len(m.Pieces)-2*9 {
		t.Errorf("found %d of %d pieces with 9 edits", len(got), len(m.Pieces))
	}
	if res.Stats.Read > int64(len(basis))+2*ps {
		t.Errorf("read %d bytes of a %d-byte basis", res.Stats.Read, len(basis))
	}
}
