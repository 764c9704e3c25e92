package decide

import (
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// RecordKind is what the tracker's answer to one reported change asks of
// the index.
type RecordKind uint8

const (
	// RecordNothing: nothing to record (an outcome that changes nothing
	// here).
	RecordNothing RecordKind = iota
	// RecordLocal: accepted (or this peer already had the current
	// version): stage Entry; a local change.
	RecordLocal
	// RecordConflict: a conflict in which our version kept the name (or
	// the tracker named no copy): stage Entry; the winner may replace it.
	RecordConflict
	// RecordConflictCopy: a conflict in which our version lost the name:
	// first keep the file under CopyTo (if that fails, record nothing),
	// then stage Entry with the stat after the copy.
	RecordConflictCopy
	// RecordDeletionLost: a deletion of an outdated version, refused: it
	// loses to the edit; stage the tombstone (no stat), and the newer
	// version arrives as a want.
	RecordDeletionLost
	// RecordRejected: a version the tracker refused: not reported again
	// in the same circumstances (peer/rejected.go).
	RecordRejected
	// RecordOutdated: a version reported again after a crash had hidden
	// the first answer, replaced at the tracker since by a newer one: stage
	// Entry (it is synced: the tracker knew it), and the newer version
	// arrives as a want and replaces it.
	RecordOutdated
)

// RecordStep is what to do for one reported change.
type RecordStep struct {
	Kind   RecordKind
	Entry  index.Entry // to stage (RecordLocal, RecordConflict*, RecordDeletionLost)
	CopyTo string      // RecordConflictCopy: the conflict name our version keeps
	// Unindex: the chunk store forgets the path (a deletion recorded).
	Unindex bool
}

// Record turns the tracker's results for a reported batch (res[i] answers
// batch[i]) into one step each, and the wants they make obsolete: where
// our version became current, announced versions older than the answer's
// sequence number are forgotten (applying one would replace a newer file
// with an older one).
func Record(batch []Change, res []tracker.Result) (steps []RecordStep, obsolete []index.Done) {
	steps = make([]RecordStep, len(res))
	for i, r := range res {
		c := batch[i]
		p := c.Manifest.Path
		entry := index.Entry{Manifest: c.Manifest, Stat: c.Stat}
		if r.Outcome == tracker.Accepted || r.Outcome == tracker.Owner ||
			(r.Outcome == tracker.Conflict && (r.Path == "" || r.Path == p)) {
			obsolete = append(obsolete, index.Done{Path: p, Before: r.Seq})
		}
		switch r.Outcome {
		case tracker.Accepted, tracker.Owner:
			steps[i] = RecordStep{Kind: RecordLocal, Entry: entry, Unindex: c.Manifest.Deleted}
		case tracker.Conflict:
			if r.Path != "" && r.Path != p {
				steps[i] = RecordStep{Kind: RecordConflictCopy, Entry: entry, CopyTo: r.Path}
			} else {
				steps[i] = RecordStep{Kind: RecordConflict, Entry: entry}
			}
		case tracker.Outdated:
			steps[i] = RecordStep{Kind: RecordOutdated, Entry: entry, Unindex: c.Manifest.Deleted}
			if c.Manifest.Deleted {
				steps[i].Entry = index.Entry{Manifest: c.Manifest}
			}
		case tracker.Rejected:
			if c.Manifest.Deleted {
				steps[i] = RecordStep{Kind: RecordDeletionLost, Entry: index.Entry{Manifest: c.Manifest}, Unindex: true}
			} else {
				steps[i] = RecordStep{Kind: RecordRejected}
			}
		}
	}
	return steps, obsolete
}
