package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/manifest/manifestpb"
)

// maxHistory is how many earlier file IDs the tracker keeps per path; the
// oldest is forgotten first. A peer re-announcing a version further behind
// than that gets a conflict copy instead of an update there (nothing is
// lost). A path edited that often costs about 2 KiB of state.
const maxHistory = 16

// bucketHistory holds, per path, the file IDs it held before its current
// version: key fileKey(folder, path) NUL file ID, value the sequence number
// (8 bytes, big-endian) at which the tracker learned it (for pruning). Paths
// never contain NUL, so one path's keys are exactly those under its prefix.
var bucketHistory = []byte("history")

// reannounceOne applies one re-announced change (a peer's index entry, sent
// after REGISTERED.reannounce) by the re-announce rules of tracker.proto.
// With M the change and C the path's current version, "M is newer" means
// M.Base == C.ID or C.ID is one of M's ancestors (the IDs the path held on
// the peer before M), and "C is newer" means C.Base == M.ID or M.ID is in the
// path's history. The first rule that matches decides:
//
//	R1. no C: accepted, a tombstone too (a tracker that lost its state
//	    re-learns deletions from the peers);
//	R2. M.ID == C.ID: the reporter becomes an owner;
//	R3. M is newer and C is not: accepted (the peer is ahead);
//	R4. C is newer and M is not: Outdated, C stays (the peer receives it
//	    once its re-announce is done);
//	R5. neither, or both (a version that came back, such as an emptied
//	    file): an edit beats a deletion (accepted), a deletion of another
//	    version is rejected, and two live versions are a conflict: both are
//	    kept (applyOne's rules 6 to 8). But a deletion of a version that no
//	    device but the reporter is listed as holding is accepted: the
//	    reporter re-announced another version of the path, so it does not
//	    hold C either, and a C nobody holds would be wanted by every peer
//	    for ever (a tracker restored from a backup whose version every peer
//	    deleted since). A device that still holds C re-announces it later,
//	    and then an edit beats the deletion: nothing is lost.
//
// A reporter that re-announces another version than C does not hold C at
// that path, whatever the (perhaps restored) state lists: when the outcome
// leaves C current (R4, a rejected deletion), the reporter is dropped from
// C's owners, so that no peer asks it for C.
//
// When both are newer (the path's content came back: X, deleted, X again),
// the chains decide before R3 to R5 (chainOrder): M is newer if the peer
// held C and C's whole chain before M, C is newer if the path's chain holds
// M and M's whole ancestry; otherwise (a chain unknown or truncated) R5.
//
// Whenever M ends up current at its path, M's base and ancestors join the
// path's history, so a peer re-announcing one of them later, in whatever
// order the peers reconnect, is told it is outdated.
func (t *txn) reannounceOne(c *Change) (Result, error) {
	n := &c.New
	cur, err := t.get(n.Path)
	if err != nil {
		return Result{}, err
	}
	np := manifest.ToProto(n)
	me := []uint32{t.reporter}
	var r Result
	var newNewer, curNewer bool
	if cur != nil && n.ID != cur.id {
		newNewer = n.Base == cur.id || slices.Contains(c.Ancestors, cur.id)
		curNewer = bytes.Equal(cur.m.Base, n.ID[:]) || t.known(n.Path, n.ID)
		if newNewer && curNewer { // the path's content came back: order the chains
			chain, err := t.chain(n.Path)
			if err != nil {
				return Result{}, err
			}
			switch chainOrder(n.ID, c.Ancestors, cur.id, chain) {
			case 1:
				curNewer = false
			case -1:
				newNewer = false
			}
		}
	}
	follows := false // M follows C (R3), so its ancestry extends C's chain
	switch {
	case cur == nil, cur != nil && n.ID != cur.id && newNewer && !curNewer:
		follows = true
	}
	switch {
	case cur == nil: // R1
		seq, err := t.put(np, me, t.reporter, 0)
		r, err = t.result(Accepted, seq, n.Path, np, err)
		if err != nil {
			return r, err
		}
	case n.ID == cur.id: // R2
		if r, err = t.addOwner(n, cur); err != nil {
			return r, err
		}
	case curNewer && !newNewer: // R4
		if _, err := t.dropOwner(n.Path, cur); err != nil {
			return Result{}, err
		}
		return t.result(Outdated, 0, n.Path, cur.m, nil)
	case newNewer && !curNewer, cur.m.Deleted && !n.Deleted, n.Deleted && t.onlyOwner(cur): // R3; R5: an edit beats a deletion; R5 (held by none)
		seq, err := t.put(np, me, t.reporter, cur.rec.Seq)
		r, err = t.result(Accepted, seq, n.Path, np, err)
		if err != nil {
			return r, err
		}
	case n.Deleted: // R5
		if _, err := t.dropOwner(n.Path, cur); err != nil {
			return Result{}, err
		}
		return t.reject(n, cur.m, errors.New("deletion of another version: the path was changed meanwhile"))
	default: // R5
		if r, err = t.conflict(n, np, cur); err != nil {
			return r, err
		}
	}
	if r.Path == n.Path && r.CurrentID == n.ID {
		if err := t.learn(n, c.Ancestors); err != nil {
			return Result{}, err
		}
		if follows && len(c.Ancestors) > 0 {
			// M's ancestry on the peer is the path's past, in order.
			if err := t.setChain(n.Path, c.Ancestors); err != nil {
				return Result{}, err
			}
		} else if !follows && cur != nil && n.ID != cur.id {
			// M replaced C without following it (R5): the order is unknown.
			if err := t.setChain(n.Path, nil); err != nil {
				return Result{}, err
			}
		}
	}
	return r, nil
}

// onlyOwner reports whether no device but the reporter is listed as an
// owner of cur.
func (t *txn) onlyOwner(cur *current) bool {
	for _, o := range cur.rec.Owners {
		if o != t.reporter {
			return false
		}
	}
	return true
}

// dropOwner removes the reporter from cur's owners (a new sequence number,
// so the peers learn it); it reports whether it was listed.
func (t *txn) dropOwner(path string, cur *current) (bool, error) {
	i := slices.Index(cur.rec.Owners, t.reporter)
	if i < 0 {
		return false, nil
	}
	old := cur.rec.Seq
	cur.rec.Owners = slices.Delete(slices.Clone(cur.rec.Owners), i, i+1)
	_, err := t.touch(fileKey(t.folder, path), cur.rec, old)
	return true, err
}

// learn adds m's base and ancestors to m's path history.
func (t *txn) learn(m *manifest.Manifest, ancestors []manifest.ID) error {
	if err := t.remember(m.Path, m.Base); err != nil {
		return err
	}
	for _, id := range ancestors {
		if id == m.ID {
			continue // the current version is not its own ancestor
		}
		if err := t.remember(m.Path, id); err != nil {
			return err
		}
	}
	return nil
}

// replacing adds the version m replaces at its path (if any, and another
// one) to the path's history. put calls it before it writes m.
func (t *txn) replacing(m *manifestpb.Manifest) error {
	rb := t.files.Get(fileKey(t.folder, m.Path))
	if rb == nil {
		return nil
	}
	old, err := recordFileID(rb)
	if err != nil {
		return fmt.Errorf("entry of %q: %w", m.Path, err)
	}
	if bytes.Equal(old[:], m.FileId) {
		return nil
	}
	var base manifest.ID
	if len(m.Base) == manifest.IDSize {
		base = manifest.ID(m.Base)
	}
	if err := t.chainReplaced(m.Path, old, base); err != nil {
		return err
	}
	return t.remember(m.Path, old)
}

// histPrefix is the key prefix of path's history in the current folder.
func (t *txn) histPrefix(path string) []byte {
	return append(fileKey(t.folder, path), 0)
}

// known reports whether id is in path's history.
func (t *txn) known(path string, id manifest.ID) bool {
	return t.hist.Get(append(t.histPrefix(path), id[:]...)) != nil
}

// remember records id in path's history (unless it is there already) and
// forgets the path's oldest entry beyond maxHistory.
func (t *txn) remember(path string, id manifest.ID) error {
	if id.IsZero() {
		return nil
	}
	prefix := t.histPrefix(path)
	key := append(slices.Clip(prefix), id[:]...)
	if t.hist.Get(key) != nil {
		return nil
	}
	if err := t.hist.Put(key, be64(t.seq)); err != nil {
		return err
	}
	n, oldestSeq := 0, uint64(0)
	var oldest []byte
	c := t.hist.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		n++
		if s := beUint64(v); oldest == nil || s < oldestSeq {
			oldest, oldestSeq = slices.Clone(k), s
		}
	}
	if n <= maxHistory {
		return nil
	}
	return t.hist.Delete(oldest)
}

// Field numbers read by recordFileID (TestRecordFileID checks them against
// the schemas).
const (
	entryRecordFieldManifest protowire.Number = 4
	manifestFieldFileID      protowire.Number = 11
)

// recordFileID returns the file ID of the manifest in an encoded
// trackerpb.EntryRecord without decoding the manifest's pieces.
func recordFileID(rb []byte) (manifest.ID, error) {
	mb, err := field(rb, entryRecordFieldManifest)
	if err != nil {
		return manifest.ID{}, err
	}
	idb, err := field(mb, manifestFieldFileID)
	if err != nil {
		return manifest.ID{}, err
	}
	return manifest.IDFromBytes(idb)
}

// field returns the last occurrence of length-delimited field num in b.
func field(b []byte, num protowire.Number) ([]byte, error) {
	var out []byte
	found := false
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil, fmt.Errorf("corrupt record: %w", protowire.ParseError(l))
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return nil, fmt.Errorf("corrupt record: %w", protowire.ParseError(l))
			}
			out, found = v, true
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return nil, fmt.Errorf("corrupt record: %w", protowire.ParseError(l))
		}
		b = b[l:]
	}
	if !found {
		return nil, fmt.Errorf("corrupt record: no field %d", num)
	}
	return out, nil
}
