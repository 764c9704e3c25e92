package peer

import (
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/plan"
)

// planner is the executor of piece plans (peer/plan) over this daemon's
// chunk store, fetcher and stats.
func (d *Daemon) planner() *plan.Executor {
	return &plan.Executor{Store: d.store, Delta: d.fetcher, Whole: d.fetcher, Count: statsCounter{&d.stats}, Log: d.log}
}

// planJob is the plan.Job of want w at the absolute target abs: its basis
// is the index's version of the path when that is a non-empty file, and
// its sources the live owners of w.
func (d *Daemon) planJob(w index.Want, abs string) plan.Job {
	j := plan.Job{Manifest: &w.Manifest, Path: abs, Sources: d.sources(w.Owners)}
	if ie, ok := d.idx.Get(w.Manifest.Path); ok && ie.Manifest.Kind == manifest.KindFile && !ie.Manifest.Deleted && ie.Manifest.Size > 0 {
		j.Old = &ie.Manifest
	}
	return j
}

// statsCounter counts what a plan moved in the daemon's Stats.
type statsCounter struct{ s *Stats }

func (c statsCounter) Local(n int64) {
	c.s.PiecesLocal.Add(1)
	c.s.BytesLocal.Add(n)
}

func (c statsCounter) Found(n int64) {
	c.s.PiecesFound.Add(1)
	c.s.BytesFound.Add(n)
}

func (c statsCounter) Delta(n int64) {
	c.s.PiecesDelta.Add(1)
	c.s.BytesDelta.Add(n)
}

func (c statsCounter) DeltaWire(sent, received int64) {
	c.s.DeltaBytesSent.Add(sent)
	c.s.DeltaBytesReceived.Add(received)
	c.s.BytesReceived.Add(received)
}

func (c statsCounter) DeltaFailed() { c.s.DeltaFailed.Add(1) }

func (c statsCounter) Fetched(pieces int, n int64) {
	c.s.BytesReceived.Add(n)
	c.s.PiecesFetched.Add(int64(pieces))
}
