package index

import (
	"fmt"

	"github.com/cockroachdb/pebble"
)

// Batch is one atomic set of index changes.
type Batch struct {
	Put        []Entry  // entries to store (by Manifest.Path)
	Delete     []string // paths whose entries are forgotten
	Wants      []Want   // wants to store (replacing any for the same path)
	DoneWants  []Done   // wants removed (if still the same version)
	Seq        uint64   // if non-zero and higher than the stored one, the new Seq
	Membership *Membership
	// Epoch, if set, replaces the tracker epoch Seq counts in (history.go);
	// with ResetSeq, Seq replaces the stored sequence number even if lower.
	Epoch    *[16]byte
	ResetSeq bool
	// Heard, with ResetSeq, is where the new epoch's Heard starts (at least
	// Seq); without, it only raises Heard (heard.go).
	Heard uint64
	// ClearWants forgets every stored want before Wants are stored.
	ClearWants bool
	// Reported are reports about to be sent (unacked.go); an entry in Put
	// (or staged) forgets its path's earlier ones first.
	Reported []Reported
}

// Stage records entries at once (Get, Page and the counters see them):
// they are written to the store without waiting for the disk, and are
// durable by the next Update or Flush, whose synced commit makes every
// earlier write durable. A crash before then loses only the record, never
// data: a staged file is one whose content the tracker already knows, so
// rescanning it reports nothing new. Heard noted by Hear is written with
// them (heard.go). A write that fails (a full disk) loses the entries;
// the next Update returns its error.
func (x *Index) Stage(es ...Entry) {
	if len(es) == 0 || !x.guard.enter() {
		return
	}
	defer x.guard.exit()
	x.wmu.Lock()
	defer x.wmu.Unlock()
	w := x.newWriter()
	defer w.close()
	for i := range es {
		if err := w.put(&es[i]); err != nil && x.stageErr == nil {
			x.stageErr = err
		}
	}
	x.mu.RLock()
	pending := x.heardPending
	x.mu.RUnlock()
	heard, err := w.growHeard(pending)
	if err == nil {
		err = w.commit(pebble.NoSync)
	}
	if err != nil {
		if x.stageErr == nil {
			x.stageErr = fmt.Errorf("index: stage: %w", err)
		}
		return
	}
	x.mu.Lock()
	x.heard = heard
	x.mu.Unlock()
}

// Flush makes the staged entries durable.
func (x *Index) Flush() error { return x.Update(Batch{}) }

// Update commits b in one batch, synced: on return it is durable with
// every entry staged before. If a Stage write failed since the last
// Update, Update returns that error and commits nothing.
func (x *Index) Update(b Batch) error {
	x.mu.Lock()
	pending := x.heardPending
	x.heardPending = 0
	x.mu.Unlock()
	if err := x.update(&b, pending); err != nil {
		x.mu.Lock()
		x.heardPending = max(x.heardPending, pending)
		x.mu.Unlock()
		return err
	}
	return nil
}

// update builds and commits b under x.wmu, and then sets the fields
// mirrored in memory (still under x.wmu: the next writer reads them as
// what is stored).
func (x *Index) update(b *Batch, pending uint64) error {
	if !x.guard.enter() {
		return ErrClosed
	}
	defer x.guard.exit()
	x.wmu.Lock()
	defer x.wmu.Unlock()
	if err := x.stageErr; err != nil {
		x.stageErr = nil
		return fmt.Errorf("index: update: an earlier stage failed: %w", err)
	}
	w := x.newWriter()
	defer w.close()
	heard, err := w.build(b, pending)
	if err == nil {
		err = w.commit(pebble.Sync)
	}
	if err != nil {
		return fmt.Errorf("index: update: %w", err)
	}
	x.mu.Lock()
	if b.Seq > x.seq || b.ResetSeq {
		x.seq = b.Seq
	}
	if b.Epoch != nil {
		x.epoch = *b.Epoch
	}
	x.heard = heard
	x.mu.Unlock()
	return nil
}

// build writes b into w in the order of the bbolt transaction before:
// unacked reports, wants cleared, entries (with their history), deletes,
// done wants, wants, meta.
func (w *writer) build(b *Batch, pending uint64) (uint64, error) {
	if b.ClearWants {
		for _, p := range []byte{prefixWants, prefixPieces} {
			if err := w.b.DeleteRange([]byte{p}, keyUpper(p), nil); err != nil {
				return 0, err
			}
		}
	}
	for i := range b.Put {
		if err := w.put(&b.Put[i]); err != nil {
			return 0, err
		}
	}
	if err := w.report(b.Reported); err != nil {
		return 0, err
	}
	for _, p := range b.Delete {
		if err := w.delete(p); err != nil {
			return 0, err
		}
	}
	for _, d := range b.DoneWants {
		if err := w.doneWant(d); err != nil {
			return 0, err
		}
	}
	for i := range b.Wants {
		if err := w.want(&b.Wants[i]); err != nil {
			return 0, err
		}
	}
	if err := w.meta(b); err != nil {
		return 0, err
	}
	return w.writeHeard(b, pending)
}

// meta writes b's Epoch, Seq and Membership.
func (w *writer) meta(b *Batch) error {
	if b.Epoch != nil {
		if err := w.b.Set(metaEpoch, b.Epoch[:], nil); err != nil {
			return err
		}
	}
	if b.ResetSeq || b.Seq > w.x.seq { // x.seq is what is stored: wmu held
		if err := w.b.Set(metaSeq, putU64(b.Seq), nil); err != nil {
			return err
		}
	}
	if b.Membership != nil {
		return w.b.Set(metaTracker, encodeMembership(b.Membership), nil)
	}
	return nil
}
