package delta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/dartsync/dartsync/manifest"
	"github.com/zeebo/blake3"
)

// Match says that wanted piece Piece of the target lies at Offset of the
// basis (its length is the piece's length in the target manifest).
type Match struct {
	Piece  int
	Offset int64
}

// FindStats counts the work of one Find call, for logs and benchmarks.
type FindStats struct {
	Read    int64 // basis bytes read
	Rolled  int64 // window positions examined by rolling, one per byte
	Jumped  int64 // bytes skipped by jumping over matched windows
	Strong  int   // BLAKE3 confirmations computed
	Failed  int   // confirmations that matched no piece
	Skipped int   // weak hits left unconfirmed because the failure budget was spent
	Known   int64 // basis bytes skipped as known (FindKnown)
}

// FindResult is what Find reports.
type FindResult struct {
	Matches []Match // one per wanted piece found, sorted by piece index
	Stats   FindStats
}

// Failure budget: a scan may compute failStart failed strong hashes, plus
// failPerWindow for every window length of basis it examines. Each failure
// hashes one window, so the strong hashing is at most failPerWindow times the
// data scanned, whatever the data.
const (
	failStart     = 16
	failPerWindow = 8
)

// minBuffer is the least read-ahead beyond one window, so small pieces do
// not mean one read per window.
const minBuffer = 256 << 10

// group is the set of target pieces that share one hash.
type group struct {
	wanted     []int // wanted piece indices with this hash
	found      bool
	beforeLast bool // holds the piece just before a short last piece
}

// finder holds the state of one Find call.
type finder struct {
	m      *manifest.Manifest
	basis  io.ReaderAt
	size   int64
	l      int // piece length (window length)
	groups map[manifest.ID]*group
	set    *weakSet
	left   int // wanted pieces not yet found
	found  []Match
	stats  FindStats

	// Short last piece, looked for at chosen offsets only.
	last        int // its index, or -1 when it is not wanted or not short
	lastLen     int
	lastChecked []int64

	known     []Range // sorted, merged; windows starting inside are skipped
	nextKnown int     // first range of known not yet behind the scan

	buf []byte
	off int64 // basis offset of buf[0]
	n   int   // valid bytes in buf
}

// Find locates the wanted pieces of target m in basis (size bytes) and
// reports where they are. Every match is confirmed with BLAKE3 over the
// basis bytes, so a reported piece really has its manifest hash (as read at
// the time of the scan; the caller verifies again what it copies if the basis
// may change meanwhile).
//
// It reads basis once from front to back with a buffer of about two pieces.
// Full-length pieces are found at any offset; a short last piece is looked
// for at its own offset, at the end of the basis and just after the piece
// before it. Pieces appearing several times in m are all reported at the same
// offset. Find stops early once every wanted piece is found, and when ctx is
// done.
func Find(ctx context.Context, basis io.ReaderAt, size int64, m *manifest.Manifest, want []int) (FindResult, error) {
	return FindKnown(ctx, basis, size, m, want, nil)
}

// FindKnown is Find that does not examine windows starting inside the known
// ranges of the basis (see KnownRanges): ranges holding pieces the caller
// already has. It neither reads nor hashes them, so a file with a few
// scattered edits costs a roll over each changed piece and nothing else.
// What it gives up is finding a wanted piece that starts inside a known
// range, which happens only when the new version repeats data of an
// unchanged piece at another alignment.
func FindKnown(ctx context.Context, basis io.ReaderAt, size int64, m *manifest.Manifest, want []int, known []Range) (FindResult, error) {
	f, err := newFinder(basis, size, m, want)
	if err != nil {
		return FindResult{}, err
	}
	f.known = normalizeRanges(slices.Clone(known), size)
	if f.left > 0 {
		if err := f.scan(ctx); err != nil {
			return FindResult{Stats: f.stats}, err
		}
	}
	slices.SortFunc(f.found, func(x, y Match) int { return x.Piece - y.Piece })
	return FindResult{Matches: f.found, Stats: f.stats}, nil
}

func newFinder(basis io.ReaderAt, size int64, m *manifest.Manifest, want []int) (*finder, error) {
	switch {
	case m == nil:
		return nil, fmt.Errorf("%w: no manifest", ErrBadRequest)
	case m.PieceSize <= 0 || m.PieceSize > manifest.MaxPieceSize:
		return nil, fmt.Errorf("%w: piece size %d", ErrBadRequest, m.PieceSize)
	case m.Size < 0 || len(m.Pieces) != manifest.PieceCount(m.Size, m.PieceSize):
		return nil, fmt.Errorf("%w: %d pieces for size %d", ErrBadRequest, len(m.Pieces), m.Size)
	case size < 0:
		return nil, fmt.Errorf("%w: basis size %d", ErrBadRequest, size)
	}
	l := int(m.PieceSize)
	f := &finder{m: m, basis: basis, size: size, l: l, last: -1,
		groups: make(map[manifest.ID]*group)}
	wanted := make([]bool, len(m.Pieces))
	for _, i := range want {
		if i < 0 || i >= len(m.Pieces) {
			return nil, fmt.Errorf("%w: wanted piece %d of %d", ErrBadRequest, i, len(m.Pieces))
		}
		if !wanted[i] {
			wanted[i] = true
			f.left++
		}
	}
	n := len(m.Pieces)
	if n > 0 && m.PieceLen(n-1) < m.PieceSize && wanted[n-1] {
		f.last = n - 1
		f.lastLen = int(m.PieceLen(n - 1))
	}
	var weaks []uint32
	seen := make(map[uint32]bool)
	for i := range m.Pieces {
		if m.PieceLen(i) != m.PieceSize {
			continue // only the last piece can be short
		}
		p := &m.Pieces[i]
		g := f.groups[p.Hash]
		if g == nil {
			g = &group{}
			f.groups[p.Hash] = g
		}
		if wanted[i] {
			g.wanted = append(g.wanted, i)
		}
		if i == n-2 && f.last >= 0 {
			g.beforeLast = true
		}
		if !seen[p.Weak] {
			seen[p.Weak] = true
			weaks = append(weaks, p.Weak)
		}
	}
	f.set = newWeakSet(len(weaks))
	f.set.build(weaks, make([]int32, len(weaks)))
	return f, nil
}

// scan runs the search. See Find.
func (f *finder) scan(ctx context.Context) error {
	f.buf = make([]byte, min(int64(f.l+max(f.l, minBuffer)), f.size))
	if f.last >= 0 {
		// Cheap first: the short last piece at its own offset and at the
		// end of the basis (the tail survives insertions and deletions).
		if err := f.checkLast(f.m.PieceOffset(f.last)); err != nil {
			return err
		}
		if err := f.checkLast(f.size - int64(f.lastLen)); err != nil {
			return err
		}
	}
	l := f.l
	pos := int64(0)
	var a, b uint32
	valid := false // whether a, b are the halves of the window at pos
	for f.left > 0 && pos+int64(l) <= f.size {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("delta: find: %w", err)
		}
		end, inside, next := f.knownAt(pos)
		if inside {
			f.stats.Known += end - pos
			pos, valid = end, false
			continue
		}
		if err := f.ensure(pos, l); err != nil {
			return err
		}
		j := int(pos - f.off)
		if !valid {
			a, b = weakAB(f.buf[j : j+l])
			valid = true
		}
		// Roll up to the window before the next known range at most.
		limit := f.n
		if next >= 0 {
			limit = min(limit, int(next-1-f.off)+l)
		}
		j2, a2, b2, hit := rollScan(f.buf[:limit], j, l, a, b, f.set)
		f.stats.Rolled += int64(j2 - j)
		pos, a, b = f.off+int64(j2), a2, b2
		if hit {
			matched, err := f.confirm(pos, f.buf[j2:j2+l])
			if err != nil {
				return err
			}
			if matched {
				pos, err = f.adjacent(pos + int64(l))
				if err != nil {
					return err
				}
				valid = false
				continue
			}
		}
		// No match at pos: roll by one byte.
		if pos+int64(l) >= f.size {
			break
		}
		if err := f.ensure(pos, l+1); err != nil {
			return err
		}
		j = int(pos - f.off)
		a, b = rollOne(a, b, l, f.buf[j], f.buf[j+l])
		f.stats.Rolled++
		pos++
	}
	return nil
}

// adjacent tries the windows following a match at pos-l, as long as they
// match, and returns the position where rolling resumes.
func (f *finder) adjacent(pos int64) (int64, error) {
	l := f.l
	for f.left > 0 && pos+int64(l) <= f.size {
		if _, inside, _ := f.knownAt(pos); inside {
			return pos, nil
		}
		if err := f.ensure(pos, l); err != nil {
			return pos, err
		}
		j := int(pos - f.off)
		matched, err := f.confirm(pos, f.buf[j:j+l])
		if err != nil || !matched {
			return pos, err
		}
		pos += int64(l)
	}
	return pos, nil
}

// confirm hashes the full-length window at pos (within the failure budget)
// and records a match. It may move the buffer (for the short last piece).
func (f *finder) confirm(pos int64, win []byte) (bool, error) {
	examined := f.stats.Rolled + f.stats.Jumped
	if f.stats.Failed >= failStart+int(examined*failPerWindow/int64(f.l)) {
		f.stats.Skipped++
		return false, nil
	}
	f.stats.Strong++
	g := f.groups[blake3.Sum256(win)]
	if g == nil {
		f.stats.Failed++
		return false, nil
	}
	f.stats.Jumped += int64(f.l)
	if !g.found {
		g.found = true
		for _, i := range g.wanted {
			f.found = append(f.found, Match{Piece: i, Offset: pos})
		}
		f.left -= len(g.wanted)
	}
	if g.beforeLast {
		if err := f.checkLast(pos + int64(f.l)); err != nil {
			return true, err
		}
	}
	return true, nil
}

// checkLast looks for the short last piece at offset o, once per offset.
func (f *finder) checkLast(o int64) error {
	if f.last < 0 || o < 0 || o+int64(f.lastLen) > f.size || slices.Contains(f.lastChecked, o) {
		return nil
	}
	f.lastChecked = append(f.lastChecked, o)
	var win []byte
	if o >= f.off && o+int64(f.lastLen) <= f.off+int64(f.n) {
		win = f.buf[o-f.off : o-f.off+int64(f.lastLen)]
	} else {
		// Read it aside so the scan's buffer stays where it is.
		win = make([]byte, f.lastLen)
		got, err := f.basis.ReadAt(win, o)
		f.stats.Read += int64(got)
		if got < len(win) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("delta: read basis at %d: %w", o, err)
		}
	}
	p := &f.m.Pieces[f.last]
	if weakOf(weakAB(win)) != p.Weak {
		return nil
	}
	f.stats.Strong++
	if manifest.ID(blake3.Sum256(win)) != p.Hash {
		f.stats.Failed++
		return nil
	}
	f.found = append(f.found, Match{Piece: f.last, Offset: o})
	f.left--
	f.last = -1
	return nil
}

// ensure makes basis[pos:pos+need] available in buf (need <= len(buf) and
// pos+need <= size), reading ahead as far as the buffer allows.
func (f *finder) ensure(pos int64, need int) error {
	if pos >= f.off && pos+int64(need) <= f.off+int64(f.n) {
		return nil
	}
	keep := 0
	if pos >= f.off && pos < f.off+int64(f.n) {
		keep = copy(f.buf, f.buf[pos-f.off:f.n])
	}
	f.off, f.n = pos, keep
	end := min(int64(len(f.buf)), f.size-pos)
	if f.nextKnown < len(f.known) {
		// No read-ahead into a known range beyond the last window that
		// starts before it (and the byte that rolls it).
		if next := f.known[f.nextKnown].Off; next > pos {
			end = min(end, max(next-pos+int64(f.l), int64(need)))
		}
	}
	if int64(keep) >= end {
		return nil
	}
	got, err := f.basis.ReadAt(f.buf[keep:end], pos+int64(keep))
	f.stats.Read += int64(got)
	f.n += got
	if got == int(end)-keep {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("delta: read basis at %d: %w", pos+int64(keep), err)
}
