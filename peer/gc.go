package peer

import (
	"errors"
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
	fp, ok := g.fingerprint()
	if !ok {
		return
	}
	if !g.ran || fp != g.last {
		g.collect(fp)
	}
}

// periodic collects whatever the wants are (a download stalls without
// them changing).
func (g *partialGC) periodic() {
	if fp, ok := g.fingerprint(); ok {
		g.collect(fp)
	}
}

// eachWanted calls fn with the wanted file versions (heads: no piece
// lists), a page of wants at a time in the index's walk order, until fn
// returns false. It reports whether the wants could be read.
func (g *partialGC) eachWanted(fn func(ms []manifest.Manifest) bool) bool {
	p := g.p
	var ms []manifest.Manifest
	after := ""
	for {
		page, err := p.idx.WantsPage(after, p.pageSize())
		if err != nil {
			p.log.Warn("partial downloads: read wants", "err", err)
			return false
		}
		ms = ms[:0]
		for _, w := range page {
			if w.Manifest.Kind == manifest.KindFile && !w.Manifest.Deleted {
				ms = append(ms, w.Manifest)
			}
		}
		if !fn(ms) || len(page) < p.pageSize() {
			return true
		}
		after = page[len(page)-1].Manifest.Path
	}
}

// fingerprint hashes the file IDs of the wanted versions (in walk order).
func (g *partialGC) fingerprint() (uint64, bool) {
	var h maphash.Hash
	h.SetSeed(g.seed)
	ok := g.eachWanted(func(ms []manifest.Manifest) bool {
		for i := range ms {
			h.Write(ms[i].ID[:])
		}
		return true
	})
	return h.Sum64(), ok
}

// eachWant walks the wanted versions for the chunk store's collection
// (CollectOptions.EachWant), a page at a time: nothing but a page of heads
// is held, however many wants there are. Once yield returns false no
// further page is read.
func (g *partialGC) eachWant(yield func(m *manifest.Manifest) bool) error {
	ok := g.eachWanted(func(ms []manifest.Manifest) bool {
		for i := range ms {
			if !yield(&ms[i]) {
				return false
			}
		}
		return true
	})
	if !ok {
		return errors.New("peer: the wants could not be read")
	}
	return nil
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

// collect removes the abandoned partials given the wanted versions
// (fingerprint fp), and logs one line if it removed any. With no partial
// download there is nothing to look at.
func (g *partialGC) collect(fp uint64) {
	ids, err := g.p.store.Partials()
	if err != nil {
		g.p.log.Warn("partial downloads: list", "err", err)
		return
	}
	if len(ids) == 0 {
		g.last, g.ran = fp, true
		return
	}
	st, err := g.p.store.CollectPartials(chunkstore.CollectOptions{EachWant: g.eachWant, MaxAge: g.maxAge, Pieces: g.pieces})
	if err != nil {
		g.p.log.Warn("partial downloads: collect", "err", err)
	} else {
		g.last, g.ran = fp, true
	}
	if st.Removed > 0 {
		g.p.log.Info("removed abandoned partial downloads", "count", st.Removed, "bytes_freed", st.Bytes,
			"kept_for_wanted_pieces", st.Kept)
	} else if st.Kept > 0 || st.Skipped > 0 {
		g.p.log.Debug("abandoned partial downloads kept", "kept_for_wanted_pieces", st.Kept, "open", st.Skipped)
	}
}
