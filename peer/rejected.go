package peer

import "github.com/dartsync/dartsync/manifest"

// rejection is a local version the tracker refused, with what this peer
// knew when it reported it: the index's version of the path (the report's
// base) and the last tracker sequence number stored. The tracker's rules
// depend only on the report and the tracker's state, so the same version is
// not reported again while both stay as they were (it would be refused
// again). As soon as either moves on (a remote version applied or a local
// change recorded for the path, or any change announced by the tracker) it
// is reported again, and a restart forgets every rejection: one refusal
// never keeps a path unreported for good.
type rejection struct {
	id   manifest.ID // the refused version
	base manifest.ID // the index's version of the path (zero: none)
	seq  uint64      // the index's tracker sequence number
}

// noteRejected remembers that the tracker refused m, reported with base
// m.Base.
func (d *Daemon) noteRejected(m *manifest.Manifest) {
	r := rejection{id: m.ID, base: m.Base, seq: d.idx.Seq()}
	d.mu.Lock()
	d.rejected[m.Path] = r
	d.mu.Unlock()
}

// stillRejected reports whether m (as the local diff found it, with Base the
// index's version) is exactly a version the tracker refused in the same
// circumstances. A rejection that no longer applies is forgotten.
func (d *Daemon) stillRejected(m *manifest.Manifest) bool {
	d.mu.RLock()
	r, ok := d.rejected[m.Path]
	d.mu.RUnlock()
	if !ok {
		return false
	}
	if r == (rejection{id: m.ID, base: m.Base, seq: d.idx.Seq()}) {
		return true
	}
	d.mu.Lock()
	if d.rejected[m.Path] == r { // not replaced meanwhile
		delete(d.rejected, m.Path)
	}
	d.mu.Unlock()
	return false
}
