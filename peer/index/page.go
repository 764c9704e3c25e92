package index

import (
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
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
// Entries carry their whole manifests.
func (x *Index) Page(after string, n int) ([]Entry, error) {
	if n <= 0 {
		n = DefaultPage
	}
	x.mu.RLock()
	paths := make([]string, 0, len(x.files))
	for p := range x.files {
		if after == "" || ComparePaths(p, after) > 0 {
			paths = append(paths, p)
		}
	}
	slices.SortFunc(paths, ComparePaths)
	if len(paths) > n {
		paths = paths[:n]
	}
	out := make([]Entry, len(paths))
	for i, p := range paths {
		out[i] = x.files[p]
	}
	x.mu.RUnlock()
	return out, nil
}

// WantsPage returns up to n stored wants whose paths come after `after` in
// walk order (after "": from the first), as heads (see Want), in walk
// order.
func (x *Index) WantsPage(after string, n int) ([]Want, error) {
	if n <= 0 {
		n = DefaultPage
	}
	var out []Want
	err := x.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketWants).ForEach(func(k, v []byte) error {
			if after != "" && ComparePaths(string(k), after) <= 0 {
				return nil
			}
			w, err := decodeWantHead(v)
			if err != nil {
				return fmt.Errorf("want %s: %w", k, err)
			}
			out = append(out, w)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("index: wants: %w", err)
	}
	slices.SortFunc(out, func(a, b Want) int { return ComparePaths(a.Manifest.Path, b.Manifest.Path) })
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}
