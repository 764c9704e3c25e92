package tracker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/manifest/manifestpb"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// maxCommitChanges bounds the changes of one group commit: a transaction's
// modified pages live on the heap until it commits.
const maxCommitChanges = 2 * MaxBatch

// Page fill when splitting: the change log is appended to in order, and
// peers report files in path order (a scan), so pages are packed; the
// tracker's mapped and resident memory is proportional to its pages.
const (
	logFillPercent   = 0.95
	filesFillPercent = 0.8
)

// maxConflictTries bounds the suffixes tried when a conflict name is taken.
const maxConflictTries = 100

// apply runs the compare-and-set rule (docs/ARCHITECTURE.md §3) for each change reported by
// member reporter in folder, in order, and commits all of it in one
// transaction before returning. Changes must be valid (manifest.FromProto).
//
// Per path, with current the path's current version, new the reported
// manifest and base its Base, the first rule that matches decides:
//
//  1. an ownership announcement (Change.OwnershipOnly) of the current
//     version: the reporter becomes an owner;
//  2. any other ownership announcement: rejected ("superseded"); an
//     announcement never creates, changes or resurrects a version, so a
//     version deleted or replaced before the announcement arrives stays so;
//  3. no current: a new version is accepted; a deletion is rejected (nothing
//     to delete, and a deletion never creates state);
//  4. new ID == current ID: the reporter becomes an owner;
//     5a. current ID is one of the change's unacknowledged reports
//     (Change.Unacked; ignored for a directory, since every directory has
//     the same ID): accepted, as 5 (the reporter put the current
//     version there itself and changed it since);
//     5b. new ID is one of them, and neither 5a nor 5 holds (a version
//     built on the current one is new, whatever its ID): what became of it answers (resent: a
//     conflict copy holding it, the reporter now an owner, or Outdated if
//     a later version replaced it); if neither is known, the rules go on;
//  5. base == current ID: accepted, owners = {reporter}. A reporter that saw
//     a deletion has its tombstone as base, so content re-created after a
//     deletion is a new version even when it is byte for byte the deleted
//     one (a restored file, a git checkout back, an empty file, a directory);
//  6. current is a deletion and new is not: accepted, owners = {reporter}
//     (an edit beats a concurrent deletion; content re-created by a device
//     that never saw the deletion, or never had the path, is a new version);
//  7. new is a deletion (of an outdated base): rejected, the edit stays;
//  8. otherwise a conflict: the later modification time keeps the name (a
//     directory always does; ties keep the current version) and the other
//     version is recorded under ConflictName, owned by whoever has it.
//
// Before these, rule 0: a report (not an announcement) proves that the
// reporter no longer holds, at that path, its base or its unacknowledged
// reports (other than the new version); where one of them went to a
// conflict copy the reporter was listed for without having it, it stops
// being an owner there, and a copy left without owners is deleted
// (release, conflict_origin.go). An ownership announcement of a version
// confirms the announcer holds it.
func (s *store) apply(folder string, reporter uint32, changes []Change) ([]Result, error) {
	r := &applyReq{folder: folder, reporter: reporter, changes: changes}
	if err := s.commits.Do(r); err != nil {
		return nil, fmt.Errorf("tracker: commit changes: %w", err)
	}
	return r.results, nil
}

// applyReq is one caller's batch in a group commit (s.commits: batches of
// concurrent callers share one transaction, up to maxCommitChanges changes).
type applyReq struct {
	folder   string
	reporter uint32
	changes  []Change
	results  []Result // set by commit
}

func applyWeight(r *applyReq) int { return len(r.changes) }

// commit applies the requests in order in one transaction; it leaves each
// request's results in it.
func (s *store) commit(q []*applyReq) error {
	var last uint64
	var notes []aggWrite // what the aggregates learn once it committed (aggregate.go)
	now := time.Now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		t := &txn{
			s:     s,
			files: tx.Bucket(bucketFiles), log: tx.Bucket(bucketLog), meta: tx.Bucket(bucketMeta),
			hist: tx.Bucket(bucketHistory), chains: tx.Bucket(bucketChain),
			cfrom: tx.Bucket(bucketConflictFrom), cunconf: tx.Bucket(bucketConflictUnconfirmed),
		}
		t.log.FillPercent = logFillPercent
		t.files.FillPercent = filesFillPercent
		if v := t.meta.Get(metaSeq); len(v) == 8 {
			t.seq = beUint64(v)
		}
		for _, r := range q {
			t.folder, t.reporter = r.folder, r.reporter
			r.results = make([]Result, 0, len(r.changes))
			for i := range r.changes {
				res, err := t.applyOne(&r.changes[i])
				if err != nil {
					return fmt.Errorf("apply %q: %w", r.changes[i].New.Path, err)
				}
				r.results = append(r.results, res)
			}
		}
		last, notes = t.seq, t.notes
		if err := saveTotals(tx, t.notes, now); err != nil {
			return fmt.Errorf("record totals: %w", err)
		}
		return t.meta.Put(metaSeq, be64(t.seq))
	})
	if err != nil {
		return err
	}
	s.bumpSeq(last)
	s.agg.committed(notes, q, now)
	changes := 0
	for _, r := range q {
		changes += len(r.changes)
	}
	s.mapped(nil, readsPerCommit+changes*readsPerRecord)
	return nil
}

// txn is one apply transaction.
type txn struct {
	s                *store
	folder           string
	reporter         uint32
	files, log, meta *bolt.Bucket
	hist             *bolt.Bucket // versions each path held before (reannounce.go)
	chains           *bolt.Bucket // the same, in order (reannounce_chain.go)
	cfrom, cunconf   *bolt.Bucket // conflict origins (conflict_origin.go)
	seq              uint64
	notes            []aggWrite // rows written, for the aggregates (txn.note)
}

// current is a path's current state inside a transaction.
type current struct {
	m   *manifestpb.Manifest
	rec *trackerpb.EntryRecord
	id  manifest.ID
}

func (t *txn) get(path string) (*current, error) {
	rb := t.files.Get(fileKey(t.folder, path))
	if rb == nil {
		return nil, nil
	}
	c := &current{m: &manifestpb.Manifest{}, rec: &trackerpb.EntryRecord{}}
	if err := proto.Unmarshal(rb, c.rec); err != nil {
		return nil, fmt.Errorf("corrupt entry: %w", err)
	}
	if err := proto.Unmarshal(c.rec.Manifest, c.m); err != nil {
		return nil, fmt.Errorf("corrupt manifest: %w", err)
	}
	var err error
	if c.id, err = manifest.IDFromBytes(c.m.FileId); err != nil {
		return nil, fmt.Errorf("corrupt manifest: %w", err)
	}
	return c, nil
}

// put stores m under its path with owners and author, takes the next
// sequence number and moves the path's change-log record to it.
// The version it replaces joins the path's history (reannounce.go).
func (t *txn) put(m *manifestpb.Manifest, owners []uint32, author uint32, oldSeq uint64) (uint64, error) {
	if oldSeq != 0 {
		if err := t.replacing(m); err != nil {
			return 0, err
		}
	}
	mb, err := proto.Marshal(m)
	if err != nil {
		return 0, err
	}
	return t.touch(fileKey(t.folder, m.Path), &trackerpb.EntryRecord{Owners: owners, Author: author, Manifest: mb}, oldSeq)
}

// touch writes rec with the next sequence number and moves the change log.
func (t *txn) touch(key []byte, rec *trackerpb.EntryRecord, oldSeq uint64) (uint64, error) {
	t.seq++
	rec.Seq = t.seq
	rb, err := proto.Marshal(rec)
	if err != nil {
		return 0, err
	}
	t.note(key, rb)
	if err := t.files.Put(key, rb); err != nil {
		return 0, err
	}
	if oldSeq != 0 {
		if err := t.log.Delete(be64(oldSeq)); err != nil {
			return 0, err
		}
	}
	return t.seq, t.log.Put(be64(t.seq), key)
}

// applyOne applies one change by the rules of apply, in their order.
func (t *txn) applyOne(c *Change) (Result, error) {
	if c.reannounce {
		return t.reannounceOne(c) // the rules of a re-announce (reannounce.go)
	}
	n := &c.New
	cur, err := t.get(n.Path)
	if err != nil {
		return Result{}, err
	}
	if n.Kind == manifest.KindDir {
		c.Unacked = nil // every directory has the same ID: they prove nothing
	}
	if !c.OwnershipOnly {
		// Rule 0 changes only conflict copies, never n.Path: cur stays valid.
		if err := t.release(c); err != nil { // 0
			return Result{}, err
		}
	}
	np := manifest.ToProto(n)
	me := []uint32{t.reporter}
	// 5b, unless the change builds on the current version (5) or the
	// reporter put the current version there itself (5a): then it is a new
	// version whatever its ID (content re-created over an unanswered
	// deletion has the ID of a report still unanswered).
	if cur != nil && n.ID != cur.id && slices.Contains(c.Unacked, n.ID) && n.Base != cur.id && !slices.Contains(c.Unacked, cur.id) { // 5b
		if r, ok, err := t.resent(n, cur); ok || err != nil {
			return r, err
		}
	}
	switch {
	case c.OwnershipOnly && cur != nil && n.ID == cur.id: // 1
		if err := t.confirmConflictOwner(n.Path, t.reporter); err != nil {
			return Result{}, err
		}
		return t.addOwner(n, cur)
	case c.OwnershipOnly: // 2
		var curm *manifestpb.Manifest
		if cur != nil {
			curm = cur.m
		}
		return t.reject(n, curm, errors.New("superseded: the announced version is no longer current"))
	case cur == nil && n.Deleted: // 3
		return t.reject(n, nil, errors.New("deletion of a path the tracker does not know"))
	case cur == nil: // 3
		seq, err := t.put(np, me, t.reporter, 0)
		return t.result(Accepted, seq, n.Path, np, err)
	case n.ID == cur.id: // 4
		return t.addOwner(n, cur)
	case slices.Contains(c.Unacked, cur.id), n.Base == cur.id, cur.m.Deleted && !n.Deleted: // 5a, 5, 6
		seq, err := t.put(np, me, t.reporter, cur.rec.Seq)
		return t.result(Accepted, seq, n.Path, np, err)
	case n.Deleted: // 7
		return t.reject(n, cur.m, errors.New("deletion of an outdated version: the path was changed meanwhile"))
	}
	return t.conflict(n, np, cur) // 8
}

// addOwner lists the reporter as an owner of cur, the version it reported.
func (t *txn) addOwner(n *manifest.Manifest, cur *current) (Result, error) {
	if slices.Contains(cur.rec.Owners, t.reporter) {
		return t.result(Owner, cur.rec.Seq, n.Path, cur.m, nil)
	}
	owners := append(slices.Clone(cur.rec.Owners), t.reporter)
	slices.Sort(owners)
	old := cur.rec.Seq
	cur.rec.Owners = owners
	seq, err := t.touch(fileKey(t.folder, n.Path), cur.rec, old)
	return t.result(Owner, seq, n.Path, cur.m, err)
}

// conflict keeps both versions: the winner under the path, the loser under
// its conflict name.
func (t *txn) conflict(n *manifest.Manifest, np *manifestpb.Manifest, cur *current) (Result, error) {
	curDir := cur.m.Kind == manifestpb.Kind_KIND_DIR
	newDir := n.Kind == manifest.KindDir
	newWins := n.ModTime > cur.m.ModTimeNs
	if curDir != newDir {
		newWins = newDir // a directory keeps its name: its children live under it
	}
	if !newWins {
		loser := proto.Clone(np).(*manifestpb.Manifest)
		path, seq, err := t.putConflict(loser, []uint32{t.reporter}, t.reporter)
		if err != nil {
			return t.reject(n, cur.m, err)
		}
		if err := t.noteConflict(n.Path, n.ID[:], path, nil); err != nil {
			return Result{}, err
		}
		return t.result(Conflict, seq, path, cur.m, nil)
	}
	loser := proto.Clone(cur.m).(*manifestpb.Manifest)
	lpath, _, err := t.putConflict(loser, cur.rec.Owners, cur.rec.Author)
	if err != nil {
		return t.reject(n, cur.m, err)
	}
	if err := t.noteConflict(n.Path, cur.id[:], lpath, cur.rec.Owners); err != nil {
		return Result{}, err
	}
	seq, err := t.put(np, []uint32{t.reporter}, t.reporter, cur.rec.Seq)
	return t.result(Conflict, seq, n.Path, np, err)
}

// putConflict records loser under a free conflict name (or merges owners if
// the same version is already there) and returns the name.
func (t *txn) putConflict(loser *manifestpb.Manifest, owners []uint32, author uint32) (string, uint64, error) {
	orig := loser.Path
	dev := t.s.device(author)
	loser.Base = nil
	for i := 1; i <= maxConflictTries; i++ {
		cand := conflictName(orig, loser.ModTimeNs, dev, i) // "-i" from the second on
		if err := manifest.ValidatePath(cand); err != nil {
			return "", 0, fmt.Errorf("no conflict name for %q: %w", orig, err)
		}
		c, err := t.get(cand)
		if err != nil {
			return "", 0, err
		}
		if c != nil && !c.m.Deleted && !bytes.Equal(c.m.FileId, loser.FileId) {
			continue // taken by another version
		}
		loser.Path = cand
		if c != nil && !c.m.Deleted {
			old := c.rec.Seq
			c.rec.Owners = union(c.rec.Owners, owners)
			seq, err := t.touch(fileKey(t.folder, cand), c.rec, old)
			return cand, seq, err
		}
		var old uint64
		if c != nil {
			old = c.rec.Seq
		}
		seq, err := t.put(loser, owners, author, old)
		return cand, seq, err
	}
	return "", 0, fmt.Errorf("no free conflict name for %q", orig)
}

func (t *txn) reject(n *manifest.Manifest, cur *manifestpb.Manifest, why error) (Result, error) {
	r, err := t.result(Rejected, 0, n.Path, cur, nil)
	r.Err = why
	return r, err
}

func (t *txn) result(o Outcome, seq uint64, path string, cur *manifestpb.Manifest, err error) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	r := Result{Outcome: o, Seq: seq, Path: path}
	if cur != nil {
		if r.CurrentID, err = manifest.IDFromBytes(cur.FileId); err != nil {
			return Result{}, fmt.Errorf("stored manifest: %w", err)
		}
	}
	return r, nil
}

func union(a, b []uint32) []uint32 {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
