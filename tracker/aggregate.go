package tracker

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// recentChanges is how many changes the recent-changes ring keeps.
const recentChanges = 200

// aggregates are the totals the dashboard and the metrics show, kept up to
// date by every commit (store.commit hands over what it wrote), which also
// records them in the state (aggregate_persist.go), so that neither a
// request nor the store's open scans the whole table:
//
//   - per folder: live files (not directories, not tombstones), their bytes,
//     the last change (its time; at open, the newest modification time);
//   - per member: the live files it owns;
//   - the conflict index: every live conflict copy (IsConflictCopy);
//   - the recent changes: a ring of the last recentChanges changes of
//     content (an added owner is not one).
//
// mu guards them; it is held only for map work.
type aggregates struct {
	mu        sync.RWMutex
	folders   map[string]*folderTotals
	owned     map[uint32]int
	conflicts map[string]ConflictCopy // by fileKey
	ring      []ChangeRecord          // the last len(ring) changes, oldest first after rotation
	next      int                     // where the next change goes in ring once it is full

	outcomes [Outdated + 1]atomic.Uint64 // results by outcome since start
}

// folderTotals are one folder's totals.
type folderTotals struct {
	rows       int // rows of the files table: live files, directories and tombstones
	files      int
	bytes      uint64
	lastChange time.Time
}

// aggWrite is one write of the files table inside a transaction: the row
// before (nil if new) and after.
type aggWrite struct {
	folder, path string
	old          *entrySummary
	new          entrySummary
	reporter     uint32
}

func newAggregates() *aggregates {
	return &aggregates{folders: map[string]*folderTotals{}, owned: map[uint32]int{}, conflicts: map[string]ConflictCopy{}}
}

// loadAggregates reads the aggregates the state keeps (aggregate_persist.go):
// the totals, the conflict index (each live conflict copy's row is read) and
// the tail of the change log. It reads no other row of the files table.
func loadAggregates(db *bolt.DB) (*aggregates, error) {
	a := newAggregates()
	err := db.View(func(tx *bolt.Tx) error {
		if err := a.loadTotals(tx); err != nil {
			return err
		}
		files := tx.Bucket(bucketFiles)
		err := tx.Bucket(bucketConflictIndex).ForEach(func(k, _ []byte) error {
			folder, p, ok := splitFileKey(k)
			v := files.Get(k)
			if !ok || v == nil {
				return fmt.Errorf("conflict index names %q, which has no entry", k)
			}
			e, err := summarize(v)
			if err != nil {
				return err
			}
			a.conflicts[string(k)] = conflictCopy(folder, p, &e)
			return nil
		})
		if err != nil {
			return err
		}
		return a.loadRecent(tx)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// scanAggregates computes the totals and the conflict index from the whole
// files table (the migration to persisted totals, and tests). Every
// releaseEvery rows it calls release, which may drop the mapped pages read
// so far.
func scanAggregates(tx *bolt.Tx, releaseEvery int, release func() error) (*aggregates, error) {
	a := newAggregates()
	n := 0
	err := tx.Bucket(bucketFiles).ForEach(func(k, v []byte) error {
		folder, p, ok := splitFileKey(k)
		if !ok {
			return nil
		}
		e, err := summarize(v)
		if err != nil {
			return err
		}
		a.add(folder, p, &e, time.Unix(0, e.modTime))
		a.folders[folder].rows++
		if n++; release != nil && n%releaseEvery == 0 {
			return release()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// loadRecent fills the recent-changes ring from the tail of the change log.
func (a *aggregates) loadRecent(tx *bolt.Tx) error {
	files := tx.Bucket(bucketFiles)
	c := tx.Bucket(bucketLog).Cursor()
	var tail []ChangeRecord
	for k, key := c.Last(); k != nil && len(tail) < recentChanges; k, key = c.Prev() {
		folder, p, ok := splitFileKey(key)
		v := files.Get(key)
		if !ok || v == nil {
			continue
		}
		e, err := summarize(v)
		if err != nil {
			return err
		}
		what := "changed"
		if e.deleted {
			what = "deleted"
		} else if IsConflictCopy(p) {
			what = "conflict copy"
		}
		tail = append(tail, ChangeRecord{Seq: binary.BigEndian.Uint64(k), Folder: folder, Path: p, What: what,
			author: e.author, Size: e.size, Time: time.Unix(0, e.modTime)})
	}
	slices.Reverse(tail)
	a.ring = tail
	return nil
}

func splitFileKey(k []byte) (folder, path string, ok bool) {
	i := bytes.IndexByte(k, 0)
	if i < 0 {
		return "", "", false
	}
	return string(k[:i]), string(k[i+1:]), true
}

// add counts row e of (folder, p); remove uncounts it. The caller holds mu
// (or owns a not yet shared a).
func (a *aggregates) add(folder, p string, e *entrySummary, when time.Time) {
	ft := a.folder(folder)
	if when.After(ft.lastChange) {
		ft.lastChange = when
	}
	if !e.live() {
		return
	}
	ft.files++
	ft.bytes += e.size
	for _, o := range e.owners {
		a.owned[o]++
	}
	if IsConflictCopy(p) {
		a.conflicts[string(fileKey(folder, p))] = conflictCopy(folder, p, e)
	}
}

func conflictCopy(folder, p string, e *entrySummary) ConflictCopy {
	return ConflictCopy{Folder: folder, Path: p, Size: e.size, ModTime: time.Unix(0, e.modTime), author: e.author, Owners: len(e.owners)}
}

// folder returns folder's totals, adding them if new. The caller holds mu.
func (a *aggregates) folder(name string) *folderTotals {
	ft := a.folders[name]
	if ft == nil {
		ft = &folderTotals{}
		a.folders[name] = ft
	}
	return ft
}

func (a *aggregates) remove(folder, p string, e *entrySummary) {
	if !e.live() {
		return
	}
	if ft := a.folders[folder]; ft != nil {
		ft.files--
		ft.bytes -= e.size
	}
	for _, o := range e.owners {
		if a.owned[o]--; a.owned[o] <= 0 {
			delete(a.owned, o)
		}
	}
	delete(a.conflicts, string(fileKey(folder, p)))
}

// committed takes what one transaction wrote, after it committed, and the
// results it gave.
func (a *aggregates) committed(ws []aggWrite, q []*applyReq, now time.Time) {
	for _, r := range q {
		for _, res := range r.results {
			if int(res.Outcome) < len(a.outcomes) {
				a.outcomes[res.Outcome].Add(1)
			}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range ws {
		w := &ws[i]
		if w.old != nil {
			a.remove(w.folder, w.path, w.old)
		}
		if w.old == nil {
			a.folder(w.folder).rows++
		}
		if w.old != nil && w.old.fileID == w.new.fileID {
			a.add(w.folder, w.path, &w.new, time.Time{}) // an owner added: not a change of content
			continue
		}
		a.add(w.folder, w.path, &w.new, now)
		what := "added"
		switch {
		case w.new.deleted:
			what = "deleted"
		case IsConflictCopy(w.path):
			what = "conflict copy"
		case w.old != nil && !w.old.deleted:
			what = "changed"
		}
		a.push(ChangeRecord{Seq: w.new.seq, Folder: w.folder, Path: w.path, What: what,
			author: w.new.author, Size: w.new.size, Time: now})
	}
}

// push adds c to the ring. The caller holds mu.
func (a *aggregates) push(c ChangeRecord) {
	if len(a.ring) < recentChanges {
		a.ring = append(a.ring, c)
		return
	}
	a.ring[a.next] = c
	a.next = (a.next + 1) % recentChanges
}

// note records, inside t's transaction and before the row is written, that
// key is about to hold the encoded record rb. A row that cannot be read is
// left out of the aggregates (the write itself decides about errors).
func (t *txn) note(key, rb []byte) {
	folder, p, ok := splitFileKey(key)
	if !ok {
		return
	}
	nw, err := summarize(rb)
	if err != nil {
		return
	}
	w := aggWrite{folder: folder, path: p, new: nw, reporter: t.reporter}
	if ov := t.files.Get(key); ov != nil {
		if old, err := summarize(ov); err == nil {
			w.old = &old
		}
	}
	t.notes = append(t.notes, w)
}
