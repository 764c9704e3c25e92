package index

import (
	"fmt"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/kvstore"
)

// WantsWithPrefix returns up to n stored wants whose paths start with
// prefix (a byte prefix of the path, which may end inside a name: "d/a."
// finds "d/a.txt" and "d/a.b", not "d/ab") and come after the path after
// in walk order ("": from the first), as heads, in walk order. Keys encode
// paths byte for byte ('/' as NUL), so these wants are one range of keys:
// a seek, however many wants there are. A page shorter than n is the last.
func (x *Index) WantsWithPrefix(prefix, after string, n int) ([]Want, error) {
	if n <= 0 {
		n = DefaultPage
	}
	if !x.guard.enter() {
		return nil, ErrClosed
	}
	defer x.guard.exit()
	lower := pathKey(prefixWants, prefix)
	upper := kvstore.PrefixEnd(lower)
	if after != "" {
		if a := append(pathKey(prefixWants, after), 0); string(a) > string(lower) {
			lower = a
		}
	}
	it, err := x.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("index: wants: %w", err)
	}
	return readWants(it, n)
}
