package chunkstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/dartsync/dartsync/internal/groupcommit"
	"github.com/dartsync/dartsync/internal/kvstore"
)

// memTableSize is the store's memtable size. Pebble preallocates each
// write-ahead log to 110% of it and keeps up to three old logs for reuse:
// with kvstore's default (2 MiB) that is up to 9 MiB of disk whatever the
// number of files, more than the records of 100 000 files take, and a
// small disk's worth (the peer's disk-full tests run on 4 MiB). The chunk
// store's records are small; larger memtables bought no speed here.
const memTableSize = 256 << 10

// db is the store's database; its writes go through one group commit.
type db struct {
	*kvstore.Store
	commits *groupcommit.Group[func(*tx) error]
	// nextRef is the next ref to allocate. Only commit touches it, and the
	// group runs one commit at a time.
	nextRef uint64
}

// openDB opens the database in stateDir/chunks/ (waiting up to
// lockTimeout for another process's lock), migrates stateDir/chunks.db
// into it if that exists, and checks or writes the schema version.
func openDB(stateDir string, cache *pebble.Cache, log *slog.Logger, mo migrateOptions) (*db, error) {
	dir := filepath.Join(stateDir, "chunks")
	deadline := time.Now().Add(lockTimeout)
	var p *kvstore.Store
	for {
		var err error
		p, err = kvstore.Open(dir, kvstore.Options{Cache: cache, MemTableSize: memTableSize})
		if err == nil {
			break
		}
		if !errors.Is(err, kvstore.ErrLocked) {
			return nil, fmt.Errorf("chunkstore: open %s: %w", dir, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d := &db{Store: p}
	if err := d.init(stateDir, log, mo); err != nil {
		p.Close()
		return nil, fmt.Errorf("chunkstore: open %s: %w", dir, err)
	}
	d.commits = groupcommit.New(d.commit, groupcommit.Options[func(*tx) error]{})
	return d, nil
}

// init migrates an older database if there is one, then checks the schema
// version (writing it in a new store) and loads the ref sequence.
func (d *db) init(stateDir string, log *slog.Logger, mo migrateOptions) error {
	if err := migrate(d.Store, stateDir, log, mo); err != nil {
		return err
	}
	v, ok, err := kvstore.Get(d.DB, keyVersion)
	if err != nil {
		return err
	}
	if !ok {
		if err := d.Room(); err != nil {
			return err
		}
		if err := d.Set(keyVersion, binary.AppendUvarint(nil, schemaVersion), pebble.Sync); err != nil {
			return err
		}
	} else if got, n := binary.Uvarint(v); n <= 0 || got != schemaVersion {
		return fmt.Errorf("unsupported schema version %x (want %d)", v, schemaVersion)
	}
	d.nextRef = 1
	if v, ok, err := kvstore.Get(d.DB, keySeq); err != nil {
		return err
	} else if ok {
		if n, k := binary.Uvarint(v); k > 0 && n > d.nextRef {
			d.nextRef = n
		}
	}
	// The highest ref recorded, in case the sequence record is behind.
	it, err := d.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixRefs}, UpperBound: []byte{prefixRefs + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	if it.Last() {
		if ref, n := readRef(it.Key()[1:]); n > 0 && ref >= d.nextRef {
			d.nextRef = ref + 1
		}
	}
	return it.Error()
}

// tx is one commit's view of the database: an indexed batch, which reads
// through to the database and sees its own writes.
type tx struct {
	b         *pebble.Batch
	d         *db
	allocated bool // newRef ran: the sequence record is written at commit
}

func (t *tx) get(k []byte) ([]byte, bool, error) { return kvstore.Get(t.b, k) }
func (t *tx) put(k, v []byte) error              { return t.b.Set(k, v, nil) }
func (t *tx) del(k []byte) error                 { return t.b.Delete(k, nil) }

// newRef allocates a ref (never one allocated before).
func (t *tx) newRef() uint64 {
	r := t.d.nextRef
	t.d.nextRef++
	t.allocated = true
	return r
}

// update runs fn on a batch and returns once the batch is durable (committed
// with pebble.Sync). Calls made while another commit is in progress are
// coalesced into one batch (group commit), so concurrent writers share
// fsyncs. Pebble has no read-modify-write transactions: the group runs one
// commit (read, build, commit) at a time, which serializes the writers as
// bbolt's writer lock did, and fn reads through the batch. fn must only
// touch the batch: it may be run a second time, alone, if another call in
// its group failed.
func (d *db) update(fn func(*tx) error) error { return d.commits.Do(fn) }

// commit runs a group's calls in one batch; a call's own error is a
// *groupcommit.CallError, so that each call of the group is run again alone.
func (d *db) commit(group []func(*tx) error) error {
	t := &tx{b: d.NewIndexedBatch(), d: d}
	defer t.b.Close()
	for i, fn := range group {
		if err := fn(t); err != nil {
			return &groupcommit.CallError{Index: i, Err: err}
		}
	}
	if t.allocated {
		if err := t.put(keySeq, binary.AppendUvarint(nil, d.nextRef)); err != nil {
			return err
		}
	}
	// Pebble cannot survive a failed log write: a disk without room for
	// one refuses the group here (kvstore.ErrNoRoom, an ENOSPC).
	if err := d.Room(); err != nil {
		return fmt.Errorf("chunkstore: %w", err)
	}
	return t.b.Commit(pebble.Sync)
}

// view runs fn on a consistent snapshot of the database.
func (d *db) view(fn func(r pebble.Reader) error) error {
	snap := d.NewSnapshot()
	defer snap.Close()
	return fn(snap)
}

// prefixIter iterates over the keys of r that start with prefix.
func prefixIter(r pebble.Reader, prefix []byte) (*pebble.Iterator, error) {
	return r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: kvstore.PrefixEnd(prefix)})
}
