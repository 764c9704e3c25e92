package tracker

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/dartsync/dartsync/manifest"
)

// Conflict origins: where a version that lost a conflict went, and which
// of its owners the tracker listed without their word.
//
// A conflict copy is listed with owners: the reporter, when its own
// version lost (it learns the copy's name from the RESULT and keeps its
// file there), or the owners of the current version, when a newer edit
// took the name (they learn of the copy by an update and build it from
// the pieces they hold). Those inherited owners have not confirmed
// anything: an owner that edited or deleted the path before building the
// copy no longer holds the version anywhere, and when every owner is such
// a device, every peer wants a copy that no device can serve, for ever.
// So:
//
//   - bucketConflictFrom maps (folder, original path, loser ID) to the
//     copy's path, so that a later report of the original path can name it;
//   - bucketConflictUnconfirmed lists, per copy, the inherited owners that
//     have not announced it (an ownership announcement of the copy removes
//     its sender, see confirmConflictOwner).
//
// release drops a reporter from a copy's owners when its report proves
// it no longer holds the copy's version (apply's rule 0); a copy left
// without owners is deleted (a tombstone): no device can supply it, and
// its last holder replaced it by the version it reports, so nothing that
// exists anywhere is lost.
var (
	bucketConflictFrom        = []byte("conflict-from")        // fileKey(folder, path) NUL ID -> copy path
	bucketConflictUnconfirmed = []byte("conflict-unconfirmed") // fileKey(folder, copy) -> member numbers (uint32 BE)
)

// noteConflict records that loser (already renamed to copyPath) lost a
// conflict at orig; inherited are the owners given to the copy without
// their word (nil when the reporter's own version lost).
func (t *txn) noteConflict(orig string, loser []byte, copyPath string, inherited []uint32) error {
	if err := t.cfrom.Put(conflictFromKey(t.folder, orig, loser), []byte(copyPath)); err != nil {
		return err
	}
	if len(inherited) == 0 {
		return nil
	}
	k := fileKey(t.folder, copyPath)
	return t.cunconf.Put(k, encodeMembers(union(decodeMembers(t.cunconf.Get(k)), inherited)))
}

// confirmConflictOwner records that member announced the version at path
// (a conflict copy or not): it holds it, whatever the tracker inferred.
func (t *txn) confirmConflictOwner(path string, member uint32) error {
	k := fileKey(t.folder, path)
	v := t.cunconf.Get(k)
	if v == nil {
		return nil
	}
	left := slices.DeleteFunc(decodeMembers(v), func(m uint32) bool { return m == member })
	if len(left) == 0 {
		return t.cunconf.Delete(k)
	}
	return t.cunconf.Put(k, encodeMembers(left))
}

// release applies rule 0 of apply for a report of n at its path: the
// reporter no longer holds, at that path, its base (unless n is the base
// again) nor any version it reported there without learning the outcome
// (Change.Unacked). For each such version that went to a conflict copy
// still holding it, the reporter stops being an owner of the copy if it
// never confirmed it (an inherited owner, for the base) or if it never
// learned of the copy at all (an unacknowledged report of its own: it
// cannot have kept its file there). A copy left without owners is deleted.
func (t *txn) release(c *Change) error {
	n := &c.New
	gone := slices.Clone(c.Unacked)
	for _, id := range gone {
		if err := t.releaseOne(n.Path, id, n.ID, false); err != nil {
			return err
		}
	}
	if n.Base.IsZero() || slices.Contains(gone, n.Base) {
		return nil
	}
	return t.releaseOne(n.Path, n.Base, n.ID, true)
}

// releaseOne is release for one version id that left orig on the reporter;
// onlyInherited limits it to an owner the tracker inferred.
func (t *txn) releaseOne(orig string, id, now manifest.ID, onlyInherited bool) error {
	if id == now {
		return nil // still there
	}
	cp := t.cfrom.Get(conflictFromKey(t.folder, orig, id[:]))
	if cp == nil {
		return nil
	}
	copyPath := string(cp)
	cur, err := t.get(copyPath)
	if err != nil || cur == nil || cur.m.Deleted || cur.id != id || !slices.Contains(cur.rec.Owners, t.reporter) {
		return err // the copy moved on, or was never the reporter's
	}
	k := fileKey(t.folder, copyPath)
	unconfirmed := decodeMembers(t.cunconf.Get(k))
	if onlyInherited && !slices.Contains(unconfirmed, t.reporter) {
		return nil // it announced the copy: it holds it under that name
	}
	if err := t.confirmConflictOwner(copyPath, t.reporter); err != nil {
		return err
	}
	owners := slices.DeleteFunc(slices.Clone(cur.rec.Owners), func(m uint32) bool { return m == t.reporter })
	if len(owners) > 0 {
		cur.rec.Owners = owners
		_, err := t.touch(k, cur.rec, cur.rec.Seq)
		return err
	}
	// Nobody holds it any more: delete the copy, so that no peer wants it.
	tomb := manifest.NewTombstone(copyPath, manifest.Kind(cur.m.Kind), id, time.Now().UnixNano())
	tp := manifest.ToProto(&tomb)
	if _, err := t.put(tp, []uint32{t.reporter}, t.reporter, cur.rec.Seq); err != nil {
		return fmt.Errorf("delete unheld conflict copy %q: %w", copyPath, err)
	}
	return t.cunconf.Delete(k)
}

// resent applies rule 5b of apply: n is a version the reporter reported
// before without learning the outcome, and it is not current. If it lost
// a conflict, its copy is where it lives: the reporter becomes an owner and
// is told the copy's name (it keeps its file there, as it would have done
// had it heard the first answer). If the path's history holds it, a newer
// version replaced it: Outdated (the reporter records it as synced and
// receives the current version). Otherwise ok is false: the ordinary
// rules decide.
func (t *txn) resent(n *manifest.Manifest, cur *current) (Result, bool, error) {
	if cp := t.cfrom.Get(conflictFromKey(t.folder, n.Path, n.ID[:])); cp != nil {
		c, err := t.get(string(cp))
		if err != nil {
			return Result{}, false, err
		}
		if c != nil && !c.m.Deleted && c.id == n.ID {
			k := fileKey(t.folder, string(cp))
			seq := c.rec.Seq
			if !slices.Contains(c.rec.Owners, t.reporter) {
				c.rec.Owners = union(c.rec.Owners, []uint32{t.reporter})
				if seq, err = t.touch(k, c.rec, c.rec.Seq); err != nil {
					return Result{}, false, err
				}
			}
			r, err := t.result(Conflict, seq, string(cp), cur.m, nil)
			return r, true, err
		}
	}
	if t.known(n.Path, n.ID) {
		r, err := t.result(Outdated, 0, n.Path, cur.m, nil)
		return r, true, err
	}
	return Result{}, false, nil
}

func conflictFromKey(folder, orig string, id []byte) []byte {
	k := append(fileKey(folder, orig), 0)
	return append(k, id...)
}

func encodeMembers(ms []uint32) []byte {
	b := make([]byte, 0, 4*len(ms))
	for _, m := range ms {
		b = binary.BigEndian.AppendUint32(b, m)
	}
	return b
}

func decodeMembers(b []byte) []uint32 {
	out := make([]uint32, 0, len(b)/4)
	for i := 0; i+4 <= len(b); i += 4 {
		out = append(out, binary.BigEndian.Uint32(b[i:]))
	}
	return out
}
