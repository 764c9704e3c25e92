package peer

import (
	"context"
	"fmt"
	"sync"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/decide"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// outcome is what became of one want.
type outcome uint8

const (
	done     outcome = iota // applied (or nothing to do): forget the want
	retry                   // try again later (no live source, fetch failed)
	edited                  // the target was edited locally: rescan first
	obsolete                // a newer version is wanted (or here) now: drop this one
	unowned                 // applied, but its rename may not be durable: not announced
	waiting                 // keep the want for a later pull, without retry timer (dirNotEmpty)
	parked                  // another synced path's name here (case_twin.go): kept, not retried
	failed                  // a write failed for a lasting cause: retried after its backoff (write_faults.go)
)

// round collects the outcomes of one pull: finished wants and the versions
// to announce to the tracker as owned.
type round struct {
	p *puller

	mu       sync.Mutex
	finished []index.Done
	owned    []manifest.Manifest
	pending  int
	sawEdit  bool
	parked   bool // a want was parked (name clash)
	faulted  int  // wants whose write failed, or that wait their backoff (write_faults.go)
}

func (r *round) finish(ds ...index.Done) {
	r.mu.Lock()
	r.finished = append(r.finished, ds...)
	r.mu.Unlock()
}

func (r *round) note(w index.Want, o outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch o {
	case done, unowned:
		r.p.state.faults.succeeded(w.Manifest.Path)
	}
	switch o {
	case done:
		r.finished = append(r.finished, index.Done{Path: w.Manifest.Path, ID: w.Manifest.ID})
		if w.Manifest.Kind == manifest.KindFile && !w.Manifest.Deleted {
			r.owned = append(r.owned, w.Manifest)
		}
	case unowned:
		r.finished = append(r.finished, index.Done{Path: w.Manifest.Path, ID: w.Manifest.ID})
	case retry:
		r.pending++
	case edited:
		r.pending++
		r.sawEdit = true
	case obsolete:
		r.pending++ // look again: the newer version may be waiting
	case waiting:
		// The want stays stored; the pull that brings what it waits
		// for applies it.
	case parked:
		r.parked = true
	case failed:
		r.faulted++
	}
}

func (r *round) applied() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.finished)
}

// flush writes staged index entries, forgets finished wants and tells the
// tracker which versions this peer now owns (decide.StillCurrent: not one
// replaced meanwhile). Versions it could not announce wait in the shared
// state for the next flush.
func (r *round) flush(ctx context.Context) error {
	r.mu.Lock()
	finished, owned := r.finished, r.owned
	r.finished, r.owned = nil, nil
	r.mu.Unlock()
	p := r.p
	owned = append(p.state.takeUnannounced(), owned...)
	if len(finished) == 0 && len(owned) == 0 {
		return p.writes.writer().Update(index.Batch{})
	}
	if err := p.writes.writer().Update(index.Batch{DoneWants: finished}); err != nil {
		// The staged entries stay staged and the wants stored (the next
		// pull finds them applied); the ownerships wait for the next flush.
		p.state.addUnannounced(owned...)
		return fmt.Errorf("peer: record applied files: %w", err)
	}
	owned = decide.StillCurrent(owned, p.idx.WantID, p.idx.Get)
	if len(owned) == 0 {
		return nil
	}
	req := make([]tracker.Change, len(owned))
	for i := range owned {
		// Only a claim: if the version was deleted or replaced meanwhile,
		// the tracker rejects it instead of restoring it.
		req[i] = tracker.Change{New: owned[i], OwnershipOnly: true}
	}
	res, err := p.client.Update(ctx, req)
	hear(p.idx, res)
	for i, x := range res {
		if x.Outcome != tracker.Owner && x.Outcome != tracker.Accepted {
			p.log.Debug("ownership not recorded", "path", req[i].New.Path, "outcome", x.Outcome.String())
		}
	}
	if err != nil {
		// Announce the unanswered ones with the next flush.
		p.state.addUnannounced(owned[min(len(res), len(owned)):]...)
		return err
	}
	return nil
}
