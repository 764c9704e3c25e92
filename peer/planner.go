package peer

import (
	"context"
	"log/slog"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/index"
	"github.com/dartsync/dartsync/peer/transfer"
)

// planner decides where each piece of a wanted version comes from, cheapest
// first, and fills the partial from there: the chunk store, the old version
// of the file (rolling search, then piece deltas from live owners), whole
// pieces from live owners (planLocal, plan_delta.go). The puller calls
// planLocal, then fetchWhole for what is left.
type planner struct {
	log     *slog.Logger
	idx     *index.Index
	store   *chunkstore.Store
	stats   *Stats
	state   *syncState        // the live peers
	self    identity.DeviceID // never a source
	fetcher *transfer.Fetcher // set by folder.connect
}

// sources returns the live owners among owners, this device excluded.
func (d *planner) sources(owners []identity.DeviceID) []transfer.Source {
	return d.state.sources(owners, d.self)
}

// fetchWhole fetches the pieces sink misses from srcs (transfer.Fetcher)
// and counts what arrived in the peer's stats, whatever the outcome.
func (d *planner) fetchWhole(ctx context.Context, m *manifest.Manifest, sink transfer.Sink, srcs []transfer.Source) (transfer.FetchStats, error) {
	st, err := d.fetcher.Fetch(ctx, m, sink, srcs)
	d.stats.BytesReceived.Add(st.Bytes)
	d.stats.PiecesFetched.Add(int64(st.Pieces))
	return st, err
}
