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
// m.Base while the index's sequence number was seq.
func (s *syncState) noteRejected(m *manifest.Manifest, seq uint64) {
	s.mu.Lock()
	s.rejected[m.Path] = rejection{id: m.ID, base: m.Base, seq: seq}
	s.mu.Unlock()
}

// stillRejected reports whether m (as the local diff found it, with Base the
// index's version) is exactly a version the tracker refused in the same
// circumstances (the index's sequence number is seq). A rejection that no
// longer applies is forgotten.
func (s *syncState) stillRejected(m *manifest.Manifest, seq uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rejected[m.Path]
	if !ok {
		return false
	}
	if r == (rejection{id: m.ID, base: m.Base, seq: seq}) {
		return true
	}
	delete(s.rejected, m.Path)
	return false
}
