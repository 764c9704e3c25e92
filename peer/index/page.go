package index

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble"
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
func (x *Index) Page(after string, n int) ([]Entry, error) {
	if n <= 0 {
		n = DefaultPage
	}
	if !x.guard.enter() {
		return nil, ErrClosed
	}
	defer x.guard.exit()
	it, err := afterIter(x.db, prefixFiles, after)
	if err != nil {
		return nil, fmt.Errorf("index: page: %w", err)
	}
	var out []Entry
	for ok := it.First(); ok && len(out) < n; ok = it.Next() {
		p := keyPath(it.Key())
		e, err := decodeRecord(p, it.Value())
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("index: page: %w", err)
		}
		out = append(out, e)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("index: page: %w", err)
	}
	return out, nil
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
