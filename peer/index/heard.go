package index

import (
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// keyHeard holds Heard (8 bytes, big-endian) in the meta bucket.
var keyHeard = []byte("heard")

// Hear notes that the tracker answered with sequence number seq (a
// result of this peer's report, in the current epoch). It is written by the
// next Update, in the same transaction as what the caller stages after
// calling Hear: call it before recording what the answer means, so that
// nothing this peer holds as known to the tracker was committed above the
// Heard it registers with (tracker.ClientConfig.LastHeard).
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

// takeHeard returns the pending Heard for an Update and clears it; x.mu held.
func (x *Index) takeHeard() uint64 {
	p := x.heardPending
	x.heardPending = 0
	return p
}

// writeHeard stores Heard inside an Update: a batch that resets Seq (a new
// epoch) resets it to the batch's Seq and Heard, raised by pending (Hear
// calls of the old epoch still pending only make it cautious); otherwise it
// only grows.
// It returns the value stored.
func writeHeard(meta *bolt.Bucket, b *Batch, pending uint64) (uint64, error) {
	cur := uint64(0)
	if v := meta.Get(keyHeard); len(v) == 8 {
		cur = binary.BigEndian.Uint64(v)
	}
	next := max(cur, b.Seq, b.Heard, pending)
	if b.ResetSeq {
		next = max(b.Seq, b.Heard, pending)
	}
	if next == cur {
		return cur, nil
	}
	return next, meta.Put(keyHeard, binary.BigEndian.AppendUint64(nil, next))
}

// loadHeard reads Heard when the index opens.
func loadHeard(meta *bolt.Bucket) uint64 {
	if v := meta.Get(keyHeard); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}
