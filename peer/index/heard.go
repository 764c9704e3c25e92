package index

// Hear notes that the tracker answered with sequence number seq (a
// result of this peer's report, in the current epoch). It is written by the
// next write (Stage or Update), in the same batch as what the caller
// stages after calling Hear: call it before recording what the answer
// means, so that nothing this peer holds as known to the tracker was
// committed above the Heard it registers with (tracker.ClientConfig.LastHeard).
func (x *Index) Hear(seq uint64) {
	x.mu.Lock()
	x.heardPending = max(x.heardPending, seq)
	x.mu.Unlock()
}

// Heard returns the highest sequence number of the current epoch this peer
// heard of: Seq, the answers it stored, and those noted by Hear and not
// written yet (counting them is only cautious: the tracker then asks for a
// re-announce a little more often).
func (x *Index) Heard() uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return max(x.seq, x.heard, x.heardPending)
}

// writeHeard stores Heard inside an Update: a batch that resets Seq (a new
// epoch) resets it to the batch's Seq and Heard, raised by pending (Hear
// calls of the old epoch still pending only make it cautious); otherwise it
// only grows. It returns the value stored. x.heard is what is stored
// (x.wmu is held).
func (w *writer) writeHeard(b *Batch, pending uint64) (uint64, error) {
	w.x.mu.RLock()
	cur := w.x.heard
	w.x.mu.RUnlock()
	next := max(cur, b.Seq, b.Heard, pending)
	if b.ResetSeq {
		next = max(b.Seq, b.Heard, pending)
	}
	if next == cur {
		return cur, nil
	}
	return next, w.b.Set(metaHeard, putU64(next), nil)
}

// growHeard stores, inside a Stage, Heard raised to what Hear noted
// (which stays pending too: the next Update writes it as before).
func (w *writer) growHeard(pending uint64) (uint64, error) {
	return w.writeHeard(&Batch{}, pending)
}
