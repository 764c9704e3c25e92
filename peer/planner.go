package peer

import (
	"log/slog"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/plan"
	"github.com/dartsync/dartsync/peer/transfer"
)

// planner gives the puller the piece plans of peer/plan over this folder's
// chunk store, the device's fetcher and the folder's stats: where each piece
// of a wanted version comes from, cheapest first (the chunk store, the old
// version of the file, piece deltas and whole pieces from live owners).
type planner struct {
	log     *slog.Logger
	idx     *index.Index
	store   *chunkstore.Store
	stats   *Stats
	state   *syncState        // the live peers
	self    identity.DeviceID // never a source
	fetcher *transfer.Fetcher // set by folder.connect
	noSwarm bool              // no partial holders (Config.Debug.NoSwarm)
}

// sources returns the live owners among owners, this device excluded.
func (p *planner) sources(owners []identity.DeviceID) []transfer.Source {
	return p.state.sources(owners, p.self)
}

// executor is the executor of piece plans (peer/plan).
func (p *planner) executor() *plan.Executor {
	return &plan.Executor{Store: p.store, Delta: p.fetcher, Whole: swarmFetcher{p}, Count: statsCounter{p.stats}, Log: p.log}
}

// job is the plan.Job of want w at the absolute target abs: its basis is
// the index's version of the path when that is a non-empty file, and its
// sources the live owners of w, then its partial holders (swarm.go).
func (p *planner) job(w index.Want, abs string) plan.Job {
	j := plan.Job{Manifest: &w.Manifest, Path: abs, Sources: p.fetchSources(&w.Manifest, w.Owners)}
	if ie, ok := p.idx.Get(w.Manifest.Path); ok && ie.Manifest.Kind == manifest.KindFile && !ie.Manifest.Deleted && ie.Manifest.Size > 0 {
		j.Old = &ie.Manifest
	}
	return j
}

// statsCounter counts what a plan moved in the folder's Stats.
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
