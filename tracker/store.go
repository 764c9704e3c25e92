package tracker

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dartsync/dartsync/internal/groupcommit"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// Bucket and key names of state.db. Keys of the files and entries buckets
// are fileKey(folder, path); log keys are 8-byte big-endian sequence numbers.
var (
	bucketMeta    = []byte("meta")    // schema version, secret, seq
	bucketMembers = []byte("members") // device ID (32 bytes) -> member number (uint32 BE)
	bucketFiles   = []byte("files")   // key -> trackerpb.EntryRecord (with the manifest)
	bucketLog     = []byte("log")     // seq -> key; only each key's latest seq
	// bucketEpochs (epoch.go), bucketHistory (reannounce.go), bucketChain
	// (reannounce_chain.go) and the conflict origins (conflict_origin.go)
	// are declared where they are used.

	metaVersion = []byte("version")
	metaSecret  = []byte("secret")
	metaSeq     = []byte("seq")
)

// schemaVersion is the state's schema: 1 without persisted totals, 2 with
// them (aggregate_persist.go). Opening a version 1 state migrates it, one
// way: a tracker of version 1 refuses a state of version 2.
const (
	schemaVersion       = 2
	schemaVersionTotals = 2 // the first version with persisted totals
)

// initialMmap is the database's initial memory map (address space, not
// memory): large enough that 100 000 files never need a remap, which would
// wait for every reader (the pushers) to finish. 64 MiB on 32-bit systems.
const initialMmap = 256 << 20 >> (2 * (64 - strconv.IntSize) / 32)

// store is the tracker's durable state: members, the files table and the
// change log in one bbolt database. It keeps no per-file data in memory.
// Writes are serialized by bbolt's writer lock; in-memory copies (seq,
// members) are updated after the commit, under mu, which is never held
// across I/O.
type store struct {
	db      *bolt.DB
	secret  [SecretSize]byte // the tracker's own join secret; replaced under mu by a rotation (access_revoke.go)
	seq     atomic.Uint64
	started epochStart // what the state held when this run's epoch began

	mappedDebt atomic.Int64 // bytes the reads since the last release may have mapped (release.go)

	mu      sync.RWMutex
	members map[identity.DeviceID]uint32
	byNum   []identity.DeviceID                           // index = member number; 0 unused
	access  map[identity.DeviceID]*trackerpb.MemberRecord // grants; none: every folder (access_store.go)
	epoch   Epoch                                         // the current epoch (rotateEpoch changes it)

	secretMade time.Time // when a rotation made secret, under mu; zero: the first secret (access_revoke.go)

	commits *groupcommit.Group[*applyReq] // apply's group commit
	agg     *aggregates                   // totals for the dashboard and metrics (aggregate.go)
}

// openStore opens (creating if needed) the database at path. A new database
// gets a secret read from rnd.
func openStore(path string, rnd io.Reader) (*store, error) {
	db, err := bolt.Open(path, 0o600, boltOptions(time.Second))
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("tracker: open %s: in use by another tracker process", path)
		}
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	}
	s := &store{db: db, members: map[identity.DeviceID]uint32{}, byNum: []identity.DeviceID{{}}}
	s.commits = groupcommit.New(s.commit, groupcommit.Options[*applyReq]{MaxWeight: maxCommitChanges, Weight: applyWeight})
	var version uint64
	if err := db.Update(func(tx *bolt.Tx) (err error) { version, err = s.load(tx, rnd); return err }); err != nil {
		db.Close()
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	}
	if version < schemaVersionTotals {
		if err := s.migrateTotals(); err != nil {
			db.Close()
			return nil, fmt.Errorf("tracker: open %s: record totals (schema %d to %d): %w", path, version, schemaVersion, err)
		}
	}
	if s.agg, err = loadAggregates(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("tracker: open %s: totals: %w", path, err)
	}
	return s, nil
}

// boltOptions are the options the state is opened with. The free-page list
// is written with each commit: without it, opening walks every page of the
// state to rebuild it (at a million files, seconds, and every page
// resident).
func boltOptions(timeout time.Duration) *bolt.Options {
	return &bolt.Options{Timeout: timeout, NoFreelistSync: false, FreelistType: bolt.FreelistArrayType, InitialMmapSize: initialMmap}
}

// load reads the state's meta data and members and begins an epoch; it
// returns the state's schema version (a new state gets schemaVersion).
func (s *store) load(tx *bolt.Tx, rnd io.Reader) (uint64, error) {
	version, err := s.loadMeta(tx, rnd)
	if err != nil {
		return 0, err
	}
	if err := s.beginEpoch(tx, nil); err != nil {
		return 0, err
	}
	return version, s.loadMembers(tx)
}

func (s *store) loadMeta(tx *bolt.Tx, rnd io.Reader) (uint64, error) {
	for _, b := range [][]byte{bucketMeta, bucketMembers, bucketFiles, bucketLog, bucketEpochs, bucketHistory, bucketChain, bucketAccess, bucketTokens, bucketConflictFrom, bucketConflictUnconfirmed, bucketTotals, bucketConflictIndex} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return 0, err
		}
	}
	meta := tx.Bucket(bucketMeta)
	version := uint64(schemaVersion)
	if v := meta.Get(metaVersion); v == nil {
		if err := meta.Put(metaVersion, be64(schemaVersion)); err != nil {
			return 0, err
		}
	} else if len(v) != 8 || binary.BigEndian.Uint64(v) == 0 || binary.BigEndian.Uint64(v) > schemaVersion {
		return 0, fmt.Errorf("unknown state schema version %x", v)
	} else {
		version = binary.BigEndian.Uint64(v)
	}
	if v := meta.Get(metaSecret); len(v) == SecretSize {
		copy(s.secret[:], v)
	} else {
		if rnd == nil {
			rnd = rand.Reader
		}
		if _, err := io.ReadFull(rnd, s.secret[:]); err != nil {
			return 0, fmt.Errorf("generate join secret: %w", err)
		}
		if err := meta.Put(metaSecret, s.secret[:]); err != nil {
			return 0, err
		}
	}
	if v := meta.Get(metaSeq); len(v) == 8 {
		s.seq.Store(binary.BigEndian.Uint64(v))
	}
	return version, nil
}

// loadMembers reads the members and their access records into memory.
func (s *store) loadMembers(tx *bolt.Tx) error {
	if err := s.acl().loadAccess(tx); err != nil {
		return err
	}
	return tx.Bucket(bucketMembers).ForEach(func(k, v []byte) error {
		var d identity.DeviceID
		if len(k) != len(d) || len(v) != 4 {
			return fmt.Errorf("corrupt member record %x", k)
		}
		copy(d[:], k)
		n := binary.BigEndian.Uint32(v)
		for uint32(len(s.byNum)) <= n {
			s.byNum = append(s.byNum, identity.DeviceID{})
		}
		s.byNum[n] = d
		s.members[d] = n
		return nil
	})
}

// How store.close leaves the current epoch (see Epoch).
type closeMode int

const (
	// leaveEpochOpen: a failed start, or a crash simulated by a test; the
	// epoch's peers re-announce after a restart.
	leaveEpochOpen closeMode = iota
	// endEpoch records that the epoch ended: only a caller that knows
	// nothing more can be committed may claim that.
	endEpoch
)

// close closes the database, recording first the end of the current epoch
// if mode is endEpoch.
func (s *store) close(mode closeMode) error {
	var err error
	if mode == endEpoch {
		if err = s.endEpoch(); err != nil {
			err = fmt.Errorf("tracker: record the end of epoch %s: %w", s.currentEpoch(), err)
		}
	}
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// current returns the highest sequence number committed.
func (s *store) current() uint64 { return s.seq.Load() }

// member returns d's member number.
func (s *store) member(d identity.DeviceID) (uint32, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, ok := s.members[d]
	return n, ok
}

// device returns the device of member number n (zero if unknown).
func (s *store) device(n uint32) identity.DeviceID {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if int(n) < len(s.byNum) {
		return s.byNum[n]
	}
	return identity.DeviceID{}
}

// addMember records d as a member with every folder durably and returns its
// number; added is false if it already was one.
func (s *store) addMember(d identity.DeviceID) (n uint32, added bool, err error) {
	return s.addMemberWith(d, nil)
}

// addMemberWith is addMember recording rec as the new member's access
// record (nil: none, every folder).
func (s *store) addMemberWith(d identity.DeviceID, rec *trackerpb.MemberRecord) (n uint32, added bool, err error) {
	if n, ok := s.member(d); ok {
		return n, false, nil
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMembers)
		if v := b.Get(d[:]); len(v) == 4 {
			n = binary.BigEndian.Uint32(v)
			return nil
		}
		next, err := b.NextSequence()
		if err != nil {
			return err
		}
		n, added = uint32(next), true
		var v [4]byte
		binary.BigEndian.PutUint32(v[:], n)
		if rec != nil {
			if err := putAccess(tx, d, rec); err != nil {
				return err
			}
		}
		return b.Put(d[:], v[:])
	})
	if err != nil {
		return 0, false, fmt.Errorf("tracker: record member %s: %w", d.Short(), err)
	}
	s.mu.Lock()
	for uint32(len(s.byNum)) <= n {
		s.byNum = append(s.byNum, identity.DeviceID{})
	}
	s.byNum[n] = d
	s.members[d] = n
	if added && rec != nil {
		s.access[d] = rec
	}
	s.mu.Unlock()
	return n, added, nil
}

// bumpSeq raises the in-memory sequence number to at least v.
func (s *store) bumpSeq(v uint64) {
	for {
		cur := s.seq.Load()
		if v <= cur || s.seq.CompareAndSwap(cur, v) {
			return
		}
	}
}

func fileKey(folder, path string) []byte {
	k := make([]byte, 0, len(folder)+1+len(path))
	k = append(k, folder...)
	k = append(k, 0)
	return append(k, path...)
}

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// counts returns the number of entries (rows of the files table: files,
// directories, tombstones) and members, from the aggregates (for logs and
// tests).
func (s *store) counts() (files, members int) {
	s.agg.mu.RLock()
	for _, ft := range s.agg.folders {
		files += ft.rows
	}
	s.agg.mu.RUnlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return files, len(s.members)
}
