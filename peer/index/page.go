package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble"
	"github.com/zeebo/blake3"

	"github.com/dartsync/dartsync/manifest"
)

// Walk order is the order in which the index lists paths (Page, WantsPage):
// paths compared component by component, each component bytewise — the
// order of a depth-first walk that lists each directory's names sorted
// (os.ReadDir), a directory just before what it holds. It differs from
// plain string order only around '/': "a/x" comes before "a.txt" (the
// separator sorts below every byte a name can hold). A consumer that walks
// the folder this way can merge the walk with Page in one pass.

// ComparePaths orders two folder-relative paths in walk order (-1, 0, +1).
func ComparePaths(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		if ca < cb {
			return -1
		}
		return 1
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// DefaultPage is a page size that keeps a page's memory small (a few
// hundred KiB of heads) while making the per-page cost negligible.
const DefaultPage = 1024

// Page returns up to n entries whose paths come after `after` in walk order
// (after "": from the first), in walk order. A caller pages through the
// whole index with bounded memory by passing the last path it got; entries
// changed meanwhile may or may not be seen, as with any concurrent walk.
// Entries carry their whole manifests. It is one iterator over the
// entries, positioned at the encoded `after` (keys sort in walk order).
// A caller that reads many pages reuses one PageReader instead.
func (x *Index) Page(after string, n int) ([]Entry, error) {
	r := PageReader{x: x}
	return r.Page(after, n)
}

// PageReader reads the index's entries a page at a time, as Page does,
// reusing its memory from page to page: a walk of the whole index
// allocates a few blocks per page, not several per entry. With Heads, the
// entries come without their piece lists (Manifest.Pieces is nil; the
// file ID, the size, the stat and every other field are there): what a
// comparison with the disk needs, without decoding or holding the lists.
// Not safe for concurrent use.
type PageReader struct {
	x     *Index
	heads bool
	ents  []Entry
	ends  []int
	slab  pieceSlab
}

// NewPageReader returns a reader of pages of x, of whole entries or (heads)
// of entries without their piece lists.
func (x *Index) NewPageReader(heads bool) *PageReader {
	return &PageReader{x: x, heads: heads, slab: pieceSlab{headsOnly: heads}}
}

// Page returns up to n entries after `after` in walk order (see
// Index.Page). The slice is the reader's: the next call reuses it. What
// its entries refer to (paths, piece lists) is never reused, so an Entry
// copied out of it stays valid.
func (r *PageReader) Page(after string, n int) ([]Entry, error) {
	if n <= 0 {
		n = DefaultPage
	}
	x := r.x
	if !x.guard.enter() {
		return nil, ErrClosed
	}
	defer x.guard.exit()
	it, err := afterIter(x.db, prefixFiles, after)
	if err != nil {
		return nil, fmt.Errorf("index: page: %w", err)
	}
	clear(r.ents)
	if r.ents == nil {
		r.ents = make([]Entry, 0, max(0, min(n, x.Len()+1)))
	}
	out, ends := r.ents[:0], r.ends[:0]
	var paths strings.Builder
	for ok := it.First(); ok && len(out) < n; ok = it.Next() {
		k := it.Key()
		if paths.Cap() == 0 {
			paths.Grow(n * (len(k) + 8))
		}
		appendKeyPath(&paths, k)
		ends = append(ends, paths.Len())
		out = append(out, Entry{})
		if err := decodeRecordTo(&out[len(out)-1], it.Value(), &r.slab); err != nil {
			it.Close()
			return nil, fmt.Errorf("index: page: %q: %w", keyPath(k), err)
		}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("index: page: %w", err)
	}
	all, from := paths.String(), 0
	for i := range out {
		out[i].Manifest.Path = all[from:ends[i]]
		from = ends[i]
	}
	r.ents, r.ends = out, ends
	return out, nil
}

// Heads looks the entries of paths up with one iterator, as heads
// (entries without their piece lists, see PageReader), and calls fn with
// each path's index in paths and its entry (ok false: none). Paths in walk
// order (ComparePaths) are looked up in one forward pass; any order is
// correct. It costs one iterator for the whole list instead of one point
// read per path. The entries are as of the call's start (an entry staged
// meanwhile may or may not be seen, as with a Get a moment earlier).
func (x *Index) Heads(paths []string, fn func(i int, e Entry, ok bool)) error {
	if len(paths) == 0 {
		return nil
	}
	if !x.guard.enter() {
		return ErrClosed
	}
	defer x.guard.exit()
	it, err := x.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixFiles}, UpperBound: keyUpper(prefixFiles)})
	if err != nil {
		return fmt.Errorf("index: heads: %w", err)
	}
	slab := pieceSlab{headsOnly: true}
	var key []byte
	for i, p := range paths {
		key = appendPathKey(key[:0], prefixFiles, p)
		if !it.SeekGE(key) || !bytes.Equal(it.Key(), key) {
			fn(i, Entry{}, false)
			continue
		}
		var e Entry
		if err := decodeRecordTo(&e, it.Value(), &slab); err != nil {
			it.Close()
			return fmt.Errorf("index: heads: %q: %w", p, err)
		}
		e.Manifest.Path = p
		fn(i, e, true)
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("index: heads: %w", err)
	}
	return nil
}

// appendPathKey appends pathKey(prefix, path) to b.
func appendPathKey(b []byte, prefix byte, path string) []byte {
	b = append(b, prefix)
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '/' {
			c = 0
		}
		b = append(b, c)
	}
	return b
}

// appendKeyPath writes the path of key k (pathKey) to b.
func appendKeyPath(b *strings.Builder, k []byte) {
	for _, c := range k[1:] {
		if c == 0 {
			c = '/'
		}
		b.WriteByte(c)
	}
}

// slabPieces is how many pieces one block of a pieceSlab holds (18 KiB);
// a longer list is allocated alone.
const slabPieces = 512

// pieceSlab hands out the piece lists of a page's entries from shared
// blocks, so that a page costs a few allocations, not one per entry. A
// handed-out list is never written again (an entry kept by a caller keeps
// its block). A heads slab hands out none (decodeRecordTo); a nil one
// allocates each list alone.
type pieceSlab struct {
	headsOnly bool
	free      []manifest.Piece
}

func (s *pieceSlab) heads() bool { return s != nil && s.headsOnly }

func (s *pieceSlab) take(n int) []manifest.Piece {
	if s == nil || n > slabPieces/4 {
		return make([]manifest.Piece, n)
	}
	if n > len(s.free) {
		s.free = make([]manifest.Piece, slabPieces)
	}
	p := s.free[:n:n]
	s.free = s.free[n:]
	return p
}

// recordFileID is manifest.FileID of a piece list given as the bytes of
// an entry record (n × (hash [32]byte | weak u32)), without decoding it.
func recordFileID(size, pieceSize int64, raw []byte) manifest.ID {
	h := blake3.New()
	var hdr [16]byte
	binary.LittleEndian.PutUint64(hdr[0:8], uint64(size))
	binary.LittleEndian.PutUint64(hdr[8:16], uint64(pieceSize))
	h.Write(hdr[:])
	for i := 0; i+36 <= len(raw); i += 36 {
		h.Write(raw[i : i+32])
	}
	var id manifest.ID
	h.Sum(id[:0])
	return id
}

// WantsPage returns up to n stored wants whose paths come after `after` in
// walk order (after "": from the first), as heads (see Want), in walk
// order.
func (x *Index) WantsPage(after string, n int) ([]Want, error) {
	if n <= 0 {
		n = DefaultPage
	}
	if !x.guard.enter() {
		return nil, ErrClosed
	}
	defer x.guard.exit()
	it, err := afterIter(x.db, prefixWants, after)
	if err != nil {
		return nil, fmt.Errorf("index: wants: %w", err)
	}
	return readWants(it, n)
}

// readWants decodes up to n wants from it, as heads, and closes it.
func readWants(it *pebble.Iterator, n int) ([]Want, error) {
	var out []Want
	for ok := it.First(); ok && len(out) < n; ok = it.Next() {
		w, err := decodeWantRecord(keyPath(it.Key()), it.Value())
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("index: want %s: %w", keyPath(it.Key()), err)
		}
		out = append(out, w)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("index: wants: %w", err)
	}
	return out, nil
}

// afterIter returns an iterator over the records of prefix whose paths
// come after `after` in walk order: its lower bound is the smallest key
// above after's own (after's key with a 0 byte appended; "" starts at the
// first).
func afterIter(r pebble.Reader, prefix byte, after string) (*pebble.Iterator, error) {
	lower := []byte{prefix}
	if after != "" {
		lower = append(pathKey(prefix, after), 0)
	}
	return r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: keyUpper(prefix)})
}

func sortWants(ws []Want) {
	slices.SortFunc(ws, func(a, b Want) int { return strings.Compare(a.Manifest.Path, b.Manifest.Path) })
}
