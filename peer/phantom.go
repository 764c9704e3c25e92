package peer

import (
	"context"
	"os"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/tracker"
)

// isPhantom reports whether want w, whose pieces the local step could not
// all find, is a phantom: a version that no longer exists on any device.
// Its only owner is this device, which cannot build it (it replaced the
// version by a local edit before anyone fetched it; the tracker then moved
// the version under a conflict name, owners and all), and nothing was
// ever synced at its path here (the index has no live entry there and the
// disk nothing: fetch's edited check ran first). No other device can
// fill such a want, so without this every device would retry it forever.
// (A version several owners all replaced is not recognized: each knows
// only that it lacks it itself.)
func (p *puller) isPhantom(w index.Want, abs string) bool {
	if len(w.Owners) != 1 || w.Owners[0] != p.plan.self {
		return false
	}
	m := &w.Manifest
	if m.Kind != manifest.KindFile || m.Deleted {
		return false
	}
	if ie, ok := p.idx.Get(m.Path); ok && !ie.Manifest.Deleted {
		return false
	}
	_, err := os.Lstat(abs)
	return gone(err)
}

// dropPhantom reports the deletion of phantom w (isPhantom) as an ordinary
// change: its tombstone with w as base, accepted because w is current. The
// tombstone is staged and the want finished (unowned: a deletion is not
// announced as owned); every other device's want for w becomes a deletion
// of a path it never had (or, if it had built w after all, a remote
// deletion, which keeps w in versions). Any other answer (w was replaced
// meanwhile, the tracker unreachable) leaves the want to be retried.
func (p *puller) dropPhantom(ctx context.Context, w index.Want) outcome {
	m := w.Manifest
	if !p.state.beginApply(m.Path) {
		return retry
	}
	defer p.state.endApply(m.Path)
	if !p.apply.stillWanted(&m) {
		return obsolete
	}
	t := manifest.NewTombstone(m.Path, m.Kind, m.ID, time.Now().UnixNano())
	res, err := p.client.Update(ctx, []tracker.Change{{New: t}})
	hear(p.idx, res)
	if err != nil || len(res) != 1 {
		p.log.Warn("report phantom's deletion", "path", m.Path, "err", err)
		return retry
	}
	if o := res[0].Outcome; o != tracker.Accepted && o != tracker.Owner {
		p.log.Debug("phantom's deletion not accepted", "path", m.Path, "outcome", o.String(), "err", res[0].Err)
		return retry
	}
	p.log.Info("version no device has (its only owner, this device, replaced it): deleted", "path", m.Path)
	p.idx.Stage(index.Entry{Manifest: t})
	return unowned
}
