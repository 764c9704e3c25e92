package index

import (
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble"
)

// WantsView is the stored wants as they were when it was taken
// (Index.ViewWants): its pages never show a want stored later, however
// long it is walked. A pull round walks one view several times (once per
// phase), so that the wants one tracker commit brought arrive in the same
// round or in a later one, never split across phases of a round: a
// conflict copy of the version this peer holds (a new path) comes before
// the version replacing it (an update), and the copy must be built from
// the local file before the update replaces that file.
//
// A view pins the store's state as of its taking (a Pebble snapshot), not
// memory: its pages are read from the store like WantsPage's. The caller
// closes it; Close of the Index closes the views still open, after which
// their Page returns ErrClosed.
type WantsView struct {
	x    *Index
	mu   sync.Mutex // snap
	snap *pebble.Snapshot
}

// views tracks the open views of an Index, so that Close can release
// them before the store (Pebble refuses to close a store with open
// snapshots).
type views struct {
	mu   sync.Mutex
	open map[*WantsView]struct{}
}

// ViewWants takes a view of the stored wants (WantsView).
func (x *Index) ViewWants() (*WantsView, error) {
	if !x.guard.enter() {
		return nil, ErrClosed
	}
	defer x.guard.exit()
	v := &WantsView{x: x, snap: x.db.NewSnapshot()}
	x.views.mu.Lock()
	if x.views.open == nil {
		x.views.open = make(map[*WantsView]struct{})
	}
	x.views.open[v] = struct{}{}
	x.views.mu.Unlock()
	return v, nil
}

// Page is Index.WantsPage as of the view: up to n wants whose paths come
// after `after` in walk order, as heads.
func (v *WantsView) Page(after string, n int) ([]Want, error) {
	if n <= 0 {
		n = DefaultPage
	}
	if !v.x.guard.enter() {
		return nil, ErrClosed
	}
	defer v.x.guard.exit()
	v.mu.Lock()
	snap := v.snap
	v.mu.Unlock()
	if snap == nil {
		return nil, ErrClosed
	}
	return wantsPage(snap, after, n)
}

// Close releases the view. Closing again does nothing.
func (v *WantsView) Close() error {
	v.x.views.mu.Lock()
	delete(v.x.views.open, v)
	v.x.views.mu.Unlock()
	return v.release()
}

func (v *WantsView) release() error {
	v.mu.Lock()
	snap := v.snap
	v.snap = nil
	v.mu.Unlock()
	if snap == nil {
		return nil
	}
	if err := snap.Close(); err != nil {
		return fmt.Errorf("index: close wants view: %w", err)
	}
	return nil
}

// closeViews releases every open view (Index.Close, with the guard
// closed: no Page is reading one).
func (x *Index) closeViews() {
	x.views.mu.Lock()
	open := x.views.open
	x.views.open = nil
	x.views.mu.Unlock()
	for v := range open {
		_ = v.release() // the store closes next: nothing to keep
	}
}
