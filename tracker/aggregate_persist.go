package tracker

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/encoding/protowire"
)

// The aggregates' totals and conflict index are kept in the state (schema
// version 2), updated in the transaction of every commit, so that opening
// the store reads a few rows instead of the whole files table: at a million
// files that scan read every page of the table (time, and a resident set
// the size of the table).
var (
	// bucketTotals: "f"+folder -> the folder's totals (encodeFolderTotals);
	// "m"+member number (4 bytes big-endian) -> live files it owns (varint).
	bucketTotals = []byte("totals")
	// bucketConflictIndex: fileKey of every live conflict copy -> empty.
	bucketConflictIndex = []byte("conflicts")
)

const (
	totalsFolder = 'f'
	totalsMember = 'm'
	// migrateReleaseEvery is how many rows the migration's scan reads
	// between two releases of the mapped pages.
	migrateReleaseEvery = 16 << 10
)

func folderTotalsKey(folder string) []byte { return append([]byte{totalsFolder}, folder...) }

func memberTotalsKey(n uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{totalsMember}, n)
}

// encodeFolderTotals encodes rows, files, bytes and the last change (ns
// since the Unix epoch) as four varints.
func encodeFolderTotals(ft *folderTotals) []byte {
	var last int64
	if !ft.lastChange.IsZero() {
		last = ft.lastChange.UnixNano()
	}
	b := protowire.AppendVarint(nil, uint64(ft.rows))
	b = protowire.AppendVarint(b, uint64(ft.files))
	b = protowire.AppendVarint(b, ft.bytes)
	return protowire.AppendVarint(b, uint64(last))
}

func decodeFolderTotals(b []byte) (folderTotals, error) {
	var v [4]uint64
	for i := range v {
		x, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return folderTotals{}, fmt.Errorf("corrupt folder totals: %w", protowire.ParseError(n))
		}
		v[i], b = x, b[n:]
	}
	ft := folderTotals{rows: int(v[0]), files: int(v[1]), bytes: v[2]}
	if v[3] != 0 {
		ft.lastChange = time.Unix(0, int64(v[3]))
	}
	return ft, nil
}

// loadTotals reads the persisted totals into a (not yet shared).
func (a *aggregates) loadTotals(tx *bolt.Tx) error {
	return tx.Bucket(bucketTotals).ForEach(func(k, v []byte) error {
		switch {
		case len(k) >= 1 && k[0] == totalsFolder:
			ft, err := decodeFolderTotals(v)
			if err != nil {
				return fmt.Errorf("folder %q: %w", k[1:], err)
			}
			a.folders[string(k[1:])] = &ft
		case len(k) == 5 && k[0] == totalsMember:
			c, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return fmt.Errorf("corrupt member totals %x", k)
			}
			a.owned[binary.BigEndian.Uint32(k[1:])] = int(c)
		default:
			return fmt.Errorf("corrupt totals key %x", k)
		}
		return nil
	})
}

// totalsDelta is what one transaction changes in the persisted totals.
type totalsDelta struct {
	folders   map[string]*folderTotals // differences (bytes wrap around: the sum is right)
	owned     map[uint32]int
	conflicts map[string]bool // fileKey -> a live conflict copy after the transaction
}

// saveTotals adds what the writes ws of tx change to the persisted totals,
// at commit time now (as aggregates.committed counts them).
func saveTotals(tx *bolt.Tx, ws []aggWrite, now time.Time) error {
	d := totalsDelta{folders: map[string]*folderTotals{}, owned: map[uint32]int{}, conflicts: map[string]bool{}}
	for i := range ws {
		w := &ws[i]
		ft := d.folders[w.folder]
		if ft == nil {
			ft = &folderTotals{}
			d.folders[w.folder] = ft
		}
		if w.old == nil {
			ft.rows++
		} else if w.old.live() {
			ft.files--
			ft.bytes -= w.old.size
			for _, o := range w.old.owners {
				d.owned[o]--
			}
		}
		if w.new.live() {
			ft.files++
			ft.bytes += w.new.size
			for _, o := range w.new.owners {
				d.owned[o]++
			}
		}
		if w.old == nil || w.old.fileID != w.new.fileID {
			ft.lastChange = now // a change of content, not an added owner
		}
		if IsConflictCopy(w.path) {
			d.conflicts[string(fileKey(w.folder, w.path))] = w.new.live()
		}
	}
	return d.save(tx)
}

func (d *totalsDelta) save(tx *bolt.Tx) error {
	b := tx.Bucket(bucketTotals)
	for f, dt := range d.folders {
		k := folderTotalsKey(f)
		var cur folderTotals
		if v := b.Get(k); v != nil {
			var err error
			if cur, err = decodeFolderTotals(v); err != nil {
				return fmt.Errorf("folder %q: %w", f, err)
			}
		}
		cur.rows += dt.rows
		cur.files += dt.files
		cur.bytes += dt.bytes
		if dt.lastChange.After(cur.lastChange) {
			cur.lastChange = dt.lastChange
		}
		if err := b.Put(k, encodeFolderTotals(&cur)); err != nil {
			return err
		}
	}
	for n, c := range d.owned {
		if c == 0 {
			continue
		}
		k := memberTotalsKey(n)
		var cur int
		if v := b.Get(k); v != nil {
			x, l := protowire.ConsumeVarint(v)
			if l < 0 {
				return fmt.Errorf("corrupt member totals %x", k)
			}
			cur = int(x)
		}
		var err error
		if cur += c; cur <= 0 {
			err = b.Delete(k)
		} else {
			err = b.Put(k, protowire.AppendVarint(nil, uint64(cur)))
		}
		if err != nil {
			return err
		}
	}
	ci := tx.Bucket(bucketConflictIndex)
	for k, live := range d.conflicts {
		var err error
		if live {
			err = ci.Put([]byte(k), nil)
		} else {
			err = ci.Delete([]byte(k))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// migrateTotals computes the totals and the conflict index of a state of
// schema version 1 from its files table and records them with version 2,
// in one transaction: a crash midway leaves version 1 (whatever the two
// buckets hold then is replaced), and the next open migrates again. The
// scan releases the mapped pages as it goes, so that it does not leave the
// whole table resident.
func (s *store) migrateTotals() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketTotals, bucketConflictIndex} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		a, err := scanAggregates(tx, migrateReleaseEvery, func() error { return releaseMappedTx(s.db, tx) })
		if err != nil {
			return err
		}
		b, ci := tx.Bucket(bucketTotals), tx.Bucket(bucketConflictIndex)
		for f, ft := range a.folders {
			if err := b.Put(folderTotalsKey(f), encodeFolderTotals(ft)); err != nil {
				return err
			}
		}
		for n, c := range a.owned {
			if err := b.Put(memberTotalsKey(n), protowire.AppendVarint(nil, uint64(c))); err != nil {
				return err
			}
		}
		for k := range a.conflicts {
			if err := ci.Put([]byte(k), nil); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(metaVersion, be64(schemaVersion))
	})
}
