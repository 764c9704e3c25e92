package peer

import (
	"hash/maphash"
	"time"

	"github.com/dartsync/dartsync/chunkstore"
	"github.com/dartsync/dartsync/manifest"
)

// DefaultPartialMaxAge is Config.PartialMaxAge's default: a partial
// download in which no piece became durable for a day is removed.
const DefaultPartialMaxAge = 24 * time.Hour

// partialGCEvery is how often abandoned partial downloads are collected
// when the wants do not change (at most; see newPartialGC).
const partialGCEvery = time.Hour

// partialGC collects abandoned partial downloads (chunkstore.CollectPartials)
// for the pull loop, on its goroutine and between pull rounds, when no
// partial the puller opened is open: after a round that leaves a set of
// wanted file versions other than the one the last collection saw (the
// first round included), and every partialGCEvery (more often when
// Config.PartialMaxAge is short, so a stalled download goes in time).
type partialGC struct {
	p      *puller
	maxAge time.Duration // <= 0: partials never stall
	ticker *time.Ticker
	seed   maphash.Seed
	last   uint64 // fingerprint of the wanted versions at the last collection
	ran    bool
}

func (p *puller) newPartialGC() *partialGC {
	every := partialGCEvery
	if a := p.partialMaxAge; a > 0 {
		every = min(every, max(a/4, time.Second))
	}
	return &partialGC{p: p, maxAge: p.partialMaxAge, ticker: time.NewTicker(every), seed: maphash.MakeSeed()}
}

// due fires when a periodic collection is due.
func (g *partialGC) due() <-chan time.Time { return g.ticker.C }

func (g *partialGC) stop() { g.ticker.Stop() }

// afterPull collects if the wanted versions changed since the last
// collection.
func (g *partialGC) afterPull() {
	ms, ok := g.wanted()
	if !ok {
		return
	}
	if fp := g.fingerprint(ms); !g.ran || fp != g.last {
		g.collect(ms)
	}
}

// periodic collects whatever the wants are (a download stalls without
// them changing).
func (g *partialGC) periodic() {
	if ms, ok := g.wanted(); ok {
		g.collect(ms)
	}
}

// wanted returns the manifests of the wanted file versions.
func (g *partialGC) wanted() ([]manifest.Manifest, bool) {
	wants, err := g.p.idx.Wants()
	if err != nil {
		g.p.log.Warn("partial downloads: read wants", "err", err)
		return nil, false
	}
	ms := make([]manifest.Manifest, 0, len(wants))
	for _, w := range wants {
		if w.Manifest.Kind == manifest.KindFile && !w.Manifest.Deleted {
			ms = append(ms, w.Manifest)
		}
	}
	return ms, true
}

// fingerprint hashes the file IDs of ms (in the index's path order).
func (g *partialGC) fingerprint(ms []manifest.Manifest) uint64 {
	var h maphash.Hash
	h.SetSeed(g.seed)
	for i := range ms {
		h.Write(ms[i].ID[:])
	}
	return h.Sum64()
}

// pieces decodes the piece list of one wanted version (the wants are
// listed as heads: pull_whole.go); none if it is no longer wanted.
func (g *partialGC) pieces(m *manifest.Manifest) ([]manifest.Piece, error) {
	w, ok, err := g.p.idx.Want(m.Path, m.ID)
	if err != nil || !ok {
		return nil, err
	}
	return w.Manifest.Pieces, nil
}

// collect removes the abandoned partials given the wanted versions ms,
// and logs one line if it removed any.
func (g *partialGC) collect(ms []manifest.Manifest) {
	g.last, g.ran = g.fingerprint(ms), true
	st, err := g.p.store.CollectPartials(chunkstore.CollectOptions{Wants: ms, MaxAge: g.maxAge, Pieces: g.pieces})
	if err != nil {
		g.p.log.Warn("partial downloads: collect", "err", err)
	}
	if st.Removed > 0 {
		g.p.log.Info("removed abandoned partial downloads", "count", st.Removed, "bytes_freed", st.Bytes,
			"kept_for_wanted_pieces", st.Kept)
	} else if st.Kept > 0 || st.Skipped > 0 {
		g.p.log.Debug("abandoned partial downloads kept", "kept_for_wanted_pieces", st.Kept, "open", st.Skipped)
	}
}
