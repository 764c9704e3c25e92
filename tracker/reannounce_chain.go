package tracker

import (
	"fmt"
	"slices"

	"github.com/dartsync/dartsync/manifest"
)

// bucketChain holds, per path, the versions it held before its current one
// in order, newest first, repeats included (a path whose content comes back
// holds the same ID twice): key fileKey(folder, path), value the file IDs
// (32 bytes each), at most maxHistory. bucketHistory is a set (is this ID in
// the path's past?); the chain orders the past, which the re-announce rules
// need when each version is in the other's past (reannounce.go, R5).
var bucketChain = []byte("chain")

// chain returns path's chain (empty if unknown).
func (t *txn) chain(path string) ([]manifest.ID, error) {
	v := t.chains.Get(fileKey(t.folder, path))
	if len(v)%manifest.IDSize != 0 {
		return nil, fmt.Errorf("chain of %q: corrupt record of %d bytes", path, len(v))
	}
	ids := make([]manifest.ID, 0, len(v)/manifest.IDSize)
	for ; len(v) > 0; v = v[manifest.IDSize:] {
		ids = append(ids, manifest.ID(v[:manifest.IDSize]))
	}
	return ids, nil
}

// setChain records ids (newest first) as path's chain; none forgets it.
func (t *txn) setChain(path string, ids []manifest.ID) error {
	key := fileKey(t.folder, path)
	if len(ids) == 0 {
		return t.chains.Delete(key)
	}
	ids = ids[:min(len(ids), maxHistory)]
	v := make([]byte, 0, len(ids)*manifest.IDSize)
	for _, id := range ids {
		v = append(v, id[:]...)
	}
	return t.chains.Put(key, v)
}

// chainReplaced updates path's chain when version old is replaced by a
// version with base base: old joins the chain if it is the new version's
// base (the new version follows it); otherwise the order is unknown and the
// chain is forgotten.
func (t *txn) chainReplaced(path string, old, base manifest.ID) error {
	if old != base {
		return t.setChain(path, nil)
	}
	ids, err := t.chain(path)
	if err != nil {
		return err
	}
	return t.setChain(path, append([]manifest.ID{old}, ids...))
}

// chainOrder orders version m, re-announced with its ancestors anc (the
// versions its path held on the peer before it, newest first, repeats
// included), and the current version c with its chain, when each is in the
// other's past (the path's content came back on one side or both). It
// returns 1 if m is newer: the peer held c and, before it, c's whole chain,
// then moved on; -1 if c is newer: the tracker's chain holds m and, before
// it, m's whole ancestry; 0 if unknown (a chain missing or possibly
// truncated, or the two disagree).
func chainOrder(m manifest.ID, anc []manifest.ID, c manifest.ID, chain []manifest.ID) int {
	if len(chain) == 0 {
		return 0 // unknown: a tracker state older than chains, or an order lost
	}
	p := append([]manifest.ID{m}, anc...)
	q := append([]manifest.ID{c}, chain...)
	if len(chain) < maxHistory && len(p) > len(q) && slices.Equal(p[1:1+len(q)], q) {
		return 1
	}
	if len(anc) < maxHistory && len(q) > len(p) && slices.Equal(q[1:1+len(p)], p) {
		return -1
	}
	return 0
}
