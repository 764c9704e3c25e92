package peer

import (
	"fmt"
	"slices"
	"sync"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// indexWriter commits a batch (with the staged entries) to the index:
// *index.Index, or in tests one that fails on demand.
type indexWriter interface {
	Update(index.Batch) error
}

// heldWrites is what the index has not stored yet: tracker updates (the
// newest entry of each path) and announced versions to forget. A failed
// write (disk full, permissions) leaves its part here and the next attempt
// writes it merged with whatever came since; the pull loop retries on its
// timer and applies nothing while anything is held, so a want is never
// applied against a state the index could not record. Nothing held counts
// as stored: the index's Seq stays below every update held here, so a
// restart fetches them again from the tracker.
//
// An update for a path whose apply is under way is held too until the
// apply ends (see updateBatch): the want a version was renamed into place
// for then stays stored until its index entry is, which is how a restart
// recognises a rename whose index write a crash prevented (recover.go).
//
// One writer at a time (busy); callers that find it busy leave their part
// to it, so no mutex is held across the write.
type heldWrites struct {
	idx      *index.Index
	w        indexWriter // where batches are written: idx (a test's may fail on demand)
	state    *syncState  // which paths are being applied, reported, stored
	pullKick chan struct{}

	mu      sync.Mutex
	idle    *sync.Cond // signalled when busy turns false; made on first use
	busy    bool
	dirty   bool // something was added since the writer took its part
	updates map[string]tracker.Entry
	done    []index.Done
	// capped is the highest Seq of the updates written while others were
	// left for later (updateBatch): stored with the next write that leaves
	// none. Only the busy writer uses it.
	capped uint64
}

// maxHeldUpdates bounds the updates held while a write is under way
// (storeUpdates): a few index pages.
const maxHeldUpdates = 4 * index.DefaultPage

// writer returns where index batches go.
func (h *heldWrites) writer() indexWriter { return h.w }

// storeUpdates stores tracker updates as wants (or forgets wants they make
// obsolete) and advances the index's Seq past them; on failure they are
// held and retried.
func (h *heldWrites) storeUpdates(entries []tracker.Entry) error {
	h.mu.Lock()
	// Backpressure: while a write is under way and maxHeldUpdates wait
	// already, the caller (the tracker client's reader) waits for that
	// write. Updates then arrive no faster than the index stores them
	// (flow control holds the tracker back), and what is held stays
	// bounded however many files the tracker announces at once. Only
	// index writes run under busy, never anything that waits for the
	// tracker. A failed write ends busy: held updates then grow, as they
	// must (nothing may be dropped), until the retry succeeds.
	for h.busy && len(h.updates) >= maxHeldUpdates {
		h.waitIdleLocked()
	}
	if h.updates == nil {
		h.updates = make(map[string]tracker.Entry, len(entries))
	}
	for _, e := range entries {
		h.addUpdateLocked(e)
	}
	h.dirty = true
	h.mu.Unlock()
	return h.store()
}

// forgetWants removes the wants dones name, with the staged entries; on
// failure they are held (with the entries still staged) and retried.
func (h *heldWrites) forgetWants(dones []index.Done) error {
	if len(dones) == 0 {
		return h.writer().Update(index.Batch{})
	}
	h.mu.Lock()
	h.done = append(h.done, dones...)
	h.dirty = true
	h.mu.Unlock()
	return h.store()
}

// count returns how many updates and forgotten wants are not stored.
func (h *heldWrites) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.updates) + len(h.done)
}

func (h *heldWrites) addUpdateLocked(e tracker.Entry) {
	if old, ok := h.updates[e.Manifest.Path]; ok && old.Seq > e.Seq {
		return
	}
	h.updates[e.Manifest.Path] = e
}

// store writes everything held, in one transaction per round. It
// returns nil if nothing is left but updates for paths being applied (the
// pull that applies them stores them next), or if another writer is busy
// (it writes what was added, or holds it on failure).
func (h *heldWrites) store() error {
	h.mu.Lock()
	if h.busy || (len(h.updates) == 0 && len(h.done) == 0) {
		h.mu.Unlock()
		return nil
	}
	h.busy = true
	for first := true; first || h.dirty; first = false {
		h.dirty = false
		ups, dones, capped := h.updates, h.done, h.capped
		h.updates, h.done = nil, nil
		h.mu.Unlock()

		b, claimed, later, top := h.updateBatch(ups, dones, capped)
		err := h.writer().Update(b)
		h.state.unclaim(claimed)

		h.mu.Lock()
		if h.updates == nil {
			h.updates = make(map[string]tracker.Entry, len(later))
		}
		if err != nil {
			for _, e := range ups {
				h.addUpdateLocked(e)
			}
			h.done = append(dones, h.done...)
			h.setIdleLocked()
			h.mu.Unlock()
			kick(h.pullKick) // the pull loop retries on its timer
			return fmt.Errorf("peer: store tracker updates: %w", err)
		}
		h.capped = 0
		if len(later) > 0 {
			h.capped = top
		}
		for _, e := range later {
			h.addUpdateLocked(e)
		}
		if len(later) > 0 || len(b.Wants) > 0 {
			kick(h.pullKick) // a later pull stores what was left once its apply ended
		}
	}
	h.setIdleLocked()
	h.mu.Unlock()
	return nil
}

// waitIdleLocked waits (h.mu held) until no writer is busy.
func (h *heldWrites) waitIdleLocked() {
	for h.busy {
		if h.idle == nil {
			h.idle = sync.NewCond(&h.mu)
		}
		h.idle.Wait()
	}
}

func (h *heldWrites) setIdleLocked() {
	h.busy = false
	if h.idle != nil {
		h.idle.Broadcast()
	}
}

// storeAll stores everything held, waiting for a writer under way;
// it fails if anything stays unstored. The pull calls it first: the wants
// it reads must not be stale (an update or a forgotten want in flight).
func (h *heldWrites) storeAll() error {
	for range 3 {
		if err := h.store(); err != nil {
			return err
		}
		h.mu.Lock()
		h.waitIdleLocked()
		n := len(h.updates) + len(h.done)
		h.mu.Unlock()
		if n == 0 {
			return nil
		}
	}
	return fmt.Errorf("peer: %d index changes not stored yet", h.count())
}

// updateBatch turns held updates and dones into one index batch. An
// update for a path being applied is left for later (returned): its Seq
// bounds the batch's, so the index never claims it stored; top, the Seq
// the batch would have had without it, is the next write's capped. The
// paths of the others are claimed (returned) until the batch is written:
// beginApply refuses them meanwhile, so a want is never replaced while its
// version is being renamed into place.
func (h *heldWrites) updateBatch(ups map[string]tracker.Entry, dones []index.Done, capped uint64) (b index.Batch, claimed []string, later []tracker.Entry, top uint64) {
	b = index.Batch{DoneWants: dones}
	top = capped
	for _, e := range ups {
		top = max(top, e.Seq)
	}
	claimed, later = h.state.claimUpdates(ups)
	var firstLater uint64
	for i, e := range later {
		if i == 0 || e.Seq < firstLater {
			firstLater = e.Seq
		}
	}
	var gone map[string][]index.Done
	if len(dones) > 0 {
		gone = make(map[string][]index.Done, len(dones))
		for _, dn := range dones {
			gone[dn.Path] = append(gone[dn.Path], dn)
		}
	}
	// Our entries of the claimed paths, read in one pass in walk order (one
	// iterator for the batch, no piece lists: only the file IDs are
	// compared). A path whose entry cannot be read counts as not ours: its
	// want is stored, as a failed Get left it.
	slices.SortFunc(claimed, index.ComparePaths)
	ours := make([]manifest.ID, len(claimed))
	_ = h.idx.Heads(claimed, func(i int, ie index.Entry, ok bool) {
		if ok {
			ours[i] = ie.Manifest.ID
		}
	})
	for i, p := range claimed {
		e := ups[p]
		if (!ours[i].IsZero() && ours[i] == e.Manifest.ID) || h.state.reportingVersion(p, e.Manifest.ID) {
			// Nothing to do: we have (or are reporting) exactly this
			// version. An older want for the path is obsolete. (Being
			// listed as an owner is not enough: the tracker moves the
			// owners of a version that lost a conflict to the conflict
			// copy, which this peer still has to build.)
			b.DoneWants = append(b.DoneWants, index.Done{Path: p})
			continue
		}
		if obsoleteBy(e, gone[p]) {
			continue // a change of ours made it obsolete (record)
		}
		b.Wants = append(b.Wants, index.Want{Manifest: e.Manifest, Owners: slices.Clone(e.Owners), Seq: e.Seq})
	}
	b.Seq = top
	if len(later) > 0 {
		b.Seq = min(top, firstLater-1)
	}
	return b, claimed, later, top
}

// obsoleteBy reports whether one of dones (of e's path, held in the same
// batch) forgets e: the index applies a batch's dones before its wants,
// while the change of ours they stand for came after e.
func obsoleteBy(e tracker.Entry, dones []index.Done) bool {
	for _, dn := range dones {
		if (dn.ID.IsZero() || dn.ID == e.Manifest.ID) && (dn.Before == 0 || e.Seq < dn.Before) {
			return true
		}
	}
	return false
}

// dropUpdates forgets the tracker updates held unstored, after the writer
// under way: they came before a re-announce, which replaces them.
func (h *heldWrites) dropUpdates() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.waitIdleLocked()
	h.updates, h.capped = nil, 0
}

// isBusy reports whether a write is under way (tests).
func (h *heldWrites) isBusy() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.busy
}
