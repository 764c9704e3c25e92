package index

import (
	"fmt"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/kvstore"
	"github.com/dartsync/dartsync/manifest"
)

// writer builds one batch of index changes (a Stage or an Update) on an
// indexed batch, whose reads see the store with the batch's own writes;
// the caller holds x.wmu from newWriter to commit.
type writer struct {
	x           *Index
	b           *pebble.Batch
	count, live int64  // changes of the counters
	histSeq     uint64 // last history counter used
	unacked     int64  // change of x.unacked
}

func (x *Index) newWriter() *writer {
	return &writer{x: x, b: x.db.NewIndexedBatch(), histSeq: x.histSeq}
}

func (w *writer) close() { w.b.Close() }

// commit writes the counters and commits; on success the in-memory
// mirrors of the counters follow.
func (w *writer) commit(o *pebble.WriteOptions) error {
	x := w.x
	if w.count != 0 || w.live != 0 {
		c := append(putU64(uint64(x.count.Load()+w.count)), putU64(uint64(x.live.Load()+w.live))...)
		if err := w.b.Set(metaCount, c, nil); err != nil {
			return err
		}
	}
	if w.unacked != 0 {
		if err := w.b.Set(metaUnacked, putU64(uint64(x.unacked+w.unacked)), nil); err != nil {
			return err
		}
	}
	if w.histSeq != x.histSeq {
		if err := w.b.Set(metaHistSeq, putU64(w.histSeq), nil); err != nil {
			return err
		}
	}
	if w.b.Empty() && (o != pebble.Sync || !x.unsynced) {
		return nil
	}
	// Pebble cannot survive a failed log write: a disk without room for
	// one refuses the batch here (kvstore.ErrNoRoom, an ENOSPC).
	if err := x.room(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if w.b.Empty() {
		// Nothing to write, but staged writes to make durable: a synced
		// log record syncs the log before it.
		if err := x.db.LogData([]byte{0}, pebble.Sync); err != nil {
			return err
		}
	} else if err := w.b.Commit(o); err != nil {
		return err
	}
	x.unsynced = o != pebble.Sync
	x.count.Add(w.count)
	x.live.Add(w.live)
	x.histSeq = w.histSeq
	x.unacked += w.unacked
	return nil
}

// lookup returns a copy of the value of k as the batch sees it.
func (w *writer) lookup(k []byte) ([]byte, bool, error) { return kvstore.Get(w.b, k) }

// put stores e, counts it, notes the version it replaces in the path's
// history and forgets the path's unacknowledged reports.
func (w *writer) put(e *Entry) error {
	rec, err := encodeRecord(e)
	if err != nil {
		return err
	}
	path := e.Manifest.Path
	k := pathKey(prefixFiles, path)
	prev, had, err := w.lookup(k)
	if err != nil {
		return err
	}
	if had {
		old, err := decodeRecord(path, prev)
		if err != nil {
			return err
		}
		if old.Manifest.ID != e.Manifest.ID {
			if err := w.history(path, old.Manifest.ID); err != nil {
				return err
			}
		}
		if recordLive(prev) {
			w.live--
		}
	} else {
		w.count++
	}
	if !e.Manifest.Deleted {
		w.live++
	}
	if err := w.b.Set(k, rec, nil); err != nil {
		return err
	}
	return w.forgetReports(path)
}

// delete forgets the entry of path.
func (w *writer) delete(path string) error {
	k := pathKey(prefixFiles, path)
	prev, had, err := w.lookup(k)
	if err != nil || !had {
		return err
	}
	w.count--
	if recordLive(prev) {
		w.live--
	}
	return w.b.Delete(k, nil)
}

// history records id as the newest earlier version of path and keeps the
// newest MaxHistory (the counter in the key orders them).
func (w *writer) history(path string, id manifest.ID) error {
	w.histSeq++
	if err := w.b.Set(historyKey(path, w.histSeq), id[:], nil); err != nil {
		return err
	}
	prefix := historyPrefix(path)
	it, err := w.b.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: kvstore.PrefixEnd(prefix)})
	if err != nil {
		return err
	}
	var oldest []byte
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n == 0 {
			oldest = append([]byte(nil), it.Key()...)
		}
		n++
	}
	if err := it.Close(); err != nil {
		return err
	}
	if n > MaxHistory {
		return w.b.Delete(oldest, nil)
	}
	return nil
}

// doneWant deletes the want d names if it still is the one d means.
func (w *writer) doneWant(d Done) error {
	k := pathKey(prefixWants, d.Path)
	v, ok, err := w.lookup(k)
	if err != nil || !ok || !wantDone(v, d) {
		return err
	}
	if err := w.b.Delete(k, nil); err != nil {
		return err
	}
	h, err := decodeWantRecord(d.Path, v)
	if err != nil { // a corrupt head: delete as many chunks as any list has
		return deletePieces(w.b, d.Path, 0, pieceChunks(manifest.MaxPieces))
	}
	return deletePieces(w.b, d.Path, 0, pieceChunks(h.Pieces))
}

// want stores wt as a head and, if it has pieces, a piece list; a piece
// list of an earlier want of the path that has none now is deleted.
func (w *writer) want(wt *Want) error {
	head, pieces, err := encodeWantRecord(wt)
	if err != nil {
		return err
	}
	path := wt.Manifest.Path
	hk := pathKey(prefixWants, path)
	oldN := 0
	if v, had, err := w.lookup(hk); err != nil {
		return err
	} else if had {
		if h, err := decodeWantRecord(path, v); err == nil {
			oldN = h.Pieces
		} else {
			oldN = manifest.MaxPieces // a corrupt head: every chunk a list may have
		}
	}
	if err := w.b.Set(hk, head, nil); err != nil {
		return fmt.Errorf("want %q: %w", path, err)
	}
	return setPieces(w.b, path, pieces, oldN)
}
