package simtest

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"sync"
	"time"
)

// timeline records when the tracker was up and when each peer was live (see
// doc.go, "Live").
type timeline struct {
	mu     sync.Mutex
	events []liveEvent
	last   map[int]time.Time
}

type liveEvent struct {
	at  time.Time
	who int // a peer's index, or trackerWho
	up  bool
}

const trackerWho = -1

func newTimeline() *timeline { return &timeline{last: map[int]time.Time{}} }

func (tl *timeline) mark(who int, up bool) { tl.markAt(who, up, time.Now()) }

// markAt records who up or down at at; an event is never placed before
// who's previous one (a stop that began before the live marker fired ends
// the live stretch when the marker did).
func (tl *timeline) markAt(who int, up bool, at time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if l, ok := tl.last[who]; ok && at.Before(l) {
		at = l
	}
	tl.last[who] = at
	tl.events = append(tl.events, liveEvent{at: at, who: who, up: up})
}

// longest returns the longest contiguous stretch within [from, to) during
// which ok holds of the set of things up.
func (tl *timeline) longest(from, to time.Time, ok func(up map[int]bool) bool) time.Duration {
	tl.mu.Lock()
	evs := append([]liveEvent(nil), tl.events...)
	tl.mu.Unlock()
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
	up := map[int]bool{}
	i := 0
	for ; i < len(evs) && !evs[i].at.After(from); i++ {
		up[evs[i].who] = evs[i].up
	}
	var best, run time.Duration
	cur := from
	for {
		next := to
		if i < len(evs) && evs[i].at.Before(to) {
			next = evs[i].at
		}
		if ok(up) {
			run += next.Sub(cur)
			best = max(best, run)
		} else {
			run = 0
		}
		if !next.Before(to) {
			return best
		}
		for ; i < len(evs) && !evs[i].at.After(next); i++ {
			up[evs[i].who] = evs[i].up
		}
		cur = next
	}
}

// version is content the simulation wrote at path on peer (see doc.go,
// "Version").
type version struct {
	op    int // index in the operation log
	peer  int
	path  string
	sum   string
	size  int
	start time.Time
	end   time.Time // zero: never replaced by its author
}

// pathOp is what one operation left at a path on its peer.
type pathOp struct {
	op   int
	peer int
	at   time.Time
	sum  string // "" = absent
}

// replacement is a local operation (overwrite, append, delete) that
// replaced content at path on peer: the simulation read it just before.
type replacement struct {
	peer int
	path string
	sum  string
	at   time.Time
}

type renameEdge struct {
	from, to string
	at       time.Time
}

// book is everything the simulation wrote, for the checks.
type book struct {
	versions []*version
	open     map[openKey]*version
	ops      map[string][]pathOp
	renames  []renameEdge
	replaced []replacement
	deleted  map[string][]byte // the last content deleted at each path
}

type openKey struct {
	peer int
	path string
}

func newBook() *book {
	return &book{open: map[openKey]*version{}, ops: map[string][]pathOp{}, deleted: map[string][]byte{}}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// end ends peer's own version at path, if any, at at.
func (b *book) end(peer int, path string, at time.Time) {
	k := openKey{peer, path}
	if v := b.open[k]; v != nil {
		v.end = at
		delete(b.open, k)
	}
}

// wrote records content written at path on peer, the write having ended at at.
func (b *book) wrote(op, peer int, path string, content []byte, at time.Time) {
	b.end(peer, path, at)
	v := &version{op: op, peer: peer, path: path, sum: sum(content), size: len(content), start: at}
	b.versions = append(b.versions, v)
	b.open[openKey{peer, path}] = v
	b.ops[path] = append(b.ops[path], pathOp{op: op, peer: peer, at: at, sum: v.sum})
}

// replacing records that a local operation on peer is about to replace
// old at path (nothing if old is nil: the path was absent).
func (b *book) replacing(peer int, path string, old []byte, at time.Time) {
	if old != nil {
		b.replaced = append(b.replaced, replacement{peer: peer, path: path, sum: sum(old), at: at})
	}
}

// removed records the deletion of path (holding content) on peer.
func (b *book) removed(op, peer int, path string, content []byte, at time.Time) {
	b.end(peer, path, at)
	b.replacing(peer, path, content, at)
	b.deleted[path] = content
	b.ops[path] = append(b.ops[path], pathOp{op: op, peer: peer, at: at})
}

// renamed records the rename of from (holding content) to to on peer.
func (b *book) renamed(op, peer int, from, to string, content []byte, at time.Time) {
	b.end(peer, from, at)
	b.ops[from] = append(b.ops[from], pathOp{op: op, peer: peer, at: at})
	b.renames = append(b.renames, renameEdge{from: from, to: to, at: at})
	b.wrote(op, peer, to, content, at)
}

// lineage is path and every path its content was renamed to (by any peer)
// at or after since, transitively.
func (b *book) lineage(path string, since time.Time) map[string]bool {
	out := map[string]bool{path: true}
	for grew := true; grew; {
		grew = false
		for _, e := range b.renames {
			if out[e.from] && !out[e.to] && !e.at.Before(since) {
				out[e.to] = true
				grew = true
			}
		}
	}
	return out
}
