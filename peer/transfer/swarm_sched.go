package transfer

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

// Swarming in the scheduler (docs/PROTOCOL.md "Swarming"). A fetch whose
// sources include partial holders (Source.Partial: peers downloading the
// same version) keeps, for each of them, the bitfield of what it last said
// it holds, and hands out work rarest first:
//
//   - a partial holder is asked only for pieces its bitfield has (to the
//     scheduler it "lacks" every other piece, endgame duplicates included);
//   - waiting items are shuffled once (each downloader starts somewhere
//     else in the file) and each worker takes, among the first rarestScan
//     waiting items it may serve, the one the fewest partial holders have:
//     the owners' uplink is spent on pieces nobody else can give, and the
//     new devices have something to trade early;
//   - among pieces no holder has, an owner is asked first for those of
//     this downloader's stripe: the downloaders of the fetch (this device
//     and the holders that have said they hold something) sorted by
//     device ID, k of them, this one the r-th, its stripe is the pieces
//     whose index is r modulo k. Downloaders joining together thus ask the
//     owner for different pieces although none knows what the others have
//     in flight (a holder's pieces are known only once it has them), which
//     would otherwise be asked twice as often as the owner's pieces take
//     to become known;
//   - once some holder has pieces, an owner gets at most swarmOwnerWindow
//     requests of this fetch at once, so that downloaders joining together
//     do not all have the same pieces in flight from the owner;
//   - partial holders never end a fetch by themselves: when no owner can
//     supply anything more, nothing is in flight and nothing changed for
//     swarmStall, the fetch gives up (ErrNoSources) and the puller tries
//     again later.
const (
	// rarestScan bounds the waiting items one pick looks at, so that a
	// pick costs the same for a 1 TiB file (a million items) as for a
	// small one; the shuffle spreads the picks over the whole file.
	rarestScan = 256
	// swarmOwnerWindow is an owner's request window in a fetch with
	// partial holders that hold something: two keep an owner busy.
	swarmOwnerWindow = 2
	// swarmStall is how long a fetch left with partial holders only waits
	// without progress before it gives up.
	swarmStall = 3 * time.Second
)

// swarm is the scheduler's swarming state; nil for a fetch without
// partial holders. Guarded by the scheduler's mutex.
type swarm struct {
	partial   []bool              // by source: a partial holder
	has       [][]byte            // by source: its bitfield (partial holders only; nil until known)
	anyHeld   bool                // some holder said it has a piece
	over      bool                // gave up: partial holders stop
	ids       []identity.DeviceID // by source
	self      identity.DeviceID
	stripe    int // this downloader's stripe (r), of stripes (k)
	stripes   int
	seen      int // remaining at the last stall check
	progress  time.Time
	lastCheck time.Time
}

// initSwarm sets up swarming when some source is a partial holder, and
// shuffles the waiting items. Called by newScheduler.
func (s *scheduler) initSwarm(srcs []Source) {
	var sw *swarm
	for i, src := range srcs {
		if !src.Partial {
			continue
		}
		if sw == nil {
			sw = &swarm{partial: make([]bool, len(srcs)), has: make([][]byte, len(srcs)), progress: time.Now(), seen: s.remaining, stripes: 1}
			for _, src := range srcs {
				sw.ids = append(sw.ids, src.ID)
			}
		}
		sw.partial[i] = true
	}
	if sw == nil {
		return
	}
	s.sw = sw
	rand.Shuffle(len(s.pending), func(i, j int) { s.pending[i], s.pending[j] = s.pending[j], s.pending[i] })
}

// notHeld reports whether si is a partial holder that has not said it has
// it. Called with mu held.
func (s *scheduler) notHeld(it *item, si int) bool {
	return s.sw != nil && s.sw.partial[si] && !hasBit(s.sw.has[si], it.index)
}

// swarmDone reports whether partial holder si has nothing more to do: the
// fetch gave up on partial holders. Called with mu held.
func (s *scheduler) swarmDone(si int) bool {
	return s.sw != nil && s.sw.partial[si] && s.sw.over
}

// ownerFull reports whether owner si already has its swarm window of
// requests in flight. Called with mu held.
func (s *scheduler) ownerFull(si int, busy int) bool {
	return s.sw != nil && !s.sw.partial[si] && s.sw.anyHeld && busy >= swarmOwnerWindow
}

// holders returns how many partial holders have it. Called with mu held.
func (s *scheduler) holders(it *item) int {
	n := 0
	for si, p := range s.sw.partial {
		if p && s.srcs[si].dropped == nil && hasBit(s.sw.has[si], it.index) {
			n++
		}
	}
	return n
}

// popRarest removes and returns, among the first rarestScan waiting items
// si may serve, one that the fewest partial holders have (the first such
// in the waiting order). Called with mu held, in a swarming fetch.
func (s *scheduler) popRarest(si int) *item {
	best, bestAt, bestN, seen := (*item)(nil), -1, 0, 0
	for i := 0; i < len(s.pending) && seen < rarestScan; i++ {
		it := s.pending[i]
		if it.done || !it.queued {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			i--
			continue
		}
		if s.lacks(it, si) {
			continue
		}
		seen++
		n := 2 * s.holders(it)
		if !s.sw.partial[si] && it.index%s.sw.stripes != s.sw.stripe {
			n++ // an owner is asked for this downloader's stripe first
		}
		if best == nil || n < bestN {
			best, bestAt, bestN = it, i, n
			if n == 0 {
				break
			}
		}
	}
	if best == nil {
		return nil
	}
	s.pending = append(s.pending[:bestAt], s.pending[bestAt+1:]...)
	best.queued = false
	return best
}

// setHave records the bitfield partial holder si sent (a holder's pieces
// only grow: what it had stays known) and wakes the workers when it has a
// piece the fetch still needs that was not known before.
func (s *scheduler) setHave(si int, bits []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sw := s.sw
	if sw == nil || !sw.partial[si] {
		return
	}
	old := sw.has[si]
	wasEmpty := old == nil || isZero(old)
	if len(old) != len(bits) {
		old = make([]byte, len(bits))
	}
	gained := false
	for i, b := range bits {
		if b&^old[i] != 0 {
			gained = true
			old[i] |= b
		}
	}
	sw.has[si] = old
	if !gained {
		return
	}
	if wasEmpty {
		s.restripe()
	}
	sw.anyHeld = true
	sw.progress = time.Now()
	s.broadcast()
}

// checkStall gives up on partial holders when no owner can supply more,
// nothing is in flight and nothing changed for swarmStall; it reports
// whether the fetch gave up.
func (s *scheduler) checkStall() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sw := s.sw
	if sw == nil || sw.over {
		return sw != nil
	}
	now := time.Now()
	if s.remaining != sw.seen || len(s.active) > 0 {
		sw.seen, sw.progress = s.remaining, now
		return false
	}
	for si, st := range s.srcs {
		if !sw.partial[si] && st.dropped == nil && st.excluded < s.remaining {
			return false // an owner is still at work
		}
	}
	if now.Sub(sw.progress) < swarmStall {
		return false
	}
	sw.over = true
	s.broadcast()
	return true
}

// pop returns the next waiting item for si: in file order (popPending),
// or rarest first in a swarming fetch, where an owner with its swarm
// window full gets nothing new. Called with mu held.
func (s *scheduler) pop(si int, busy func() int) *item {
	switch {
	case s.sw == nil:
		return s.popPending(si)
	case s.ownerFull(si, busy()):
		return nil
	default:
		return s.popRarest(si)
	}
}

// setSelf tells a swarming scheduler this device's ID (for its stripe).
func (s *scheduler) setSelf(id identity.DeviceID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sw != nil {
		s.sw.self = id
		s.restripe()
	}
}

// restripe computes this downloader's stripe among the downloaders known
// to hold something (see the rules above). Called with mu held.
func (s *scheduler) restripe() {
	sw := s.sw
	ids := []identity.DeviceID{sw.self}
	for si, p := range sw.partial {
		if p && !isZero(sw.has[si]) {
			ids = append(ids, sw.ids[si])
		}
	}
	slices.SortFunc(ids, identity.DeviceID.Compare)
	sw.stripes = len(ids)
	sw.stripe = slices.Index(ids, sw.self)
}

func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
