package peer

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// smallBatchGC is how many single-piece files a pull phase must hold
// before it raises the garbage collector's target (Config.SmallFilesGC).
const smallBatchGC = 64

// boostHeadroom bounds what a boost may add to the memory the Go runtime
// holds when it begins (a soft memory limit, debug.SetMemoryLimit): with
// 10 000 files of 4 KiB the largest process peaked at 81 MiB RSS without
// it, 57 MiB with it, against 46-48 MiB unboosted (e2e_speed.sh small).
// A quarter of what is held, if more, so that a large live heap is not
// collected more often than without the boost.
const boostHeadroom = 16 << 20

// gcBoost raises the Go garbage collector's target (debug.SetGCPercent)
// while pull phases of many small files run, and puts the previous value
// back when the last one ends. The peer runs with a low GOGC so that its
// heap stays flat during large transfers (cmd/dartsync/peer_cmd.go), which
// makes the garbage of thousands of small files (their manifests, index
// transactions, one request stream each: ~60 KB a file) cost a GC cycle
// every few dozen files: a quarter of a receiver's CPU in
// benchmarks/e2e_speed.sh's small-files case. A large file is never pulled
// under a boost unless small ones run beside it, and the heap's live data
// does not change: only how much garbage waits for the next cycle. It is
// shared by the folders of a Daemon; a nil *gcBoost or a zero percent does
// nothing. While boosted, a soft memory limit keeps the heap within
// boostHeadroom of what the runtime held when the boost began (never above
// a limit already set).
type gcBoost struct {
	percent int // the target while boosted; 0: never boost

	mu        sync.Mutex
	n         int   // phases boosted now
	prev      int   // the GC percent before the first of them
	prevLimit int64 // the memory limit before the first of them
}

func newGCBoost(percent int) *gcBoost { return &gcBoost{percent: percent} }

// begin boosts the GC target if small of the phase's files are single-piece
// ones; the returned function ends the boost (call it once).
func (g *gcBoost) begin(small int) (end func()) {
	if g == nil || g.percent <= 0 || small < smallBatchGC {
		return func() {}
	}
	g.mu.Lock()
	if g.n == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		held := int64(ms.Sys - ms.HeapReleased)
		limit := min(debug.SetMemoryLimit(-1), held+max(boostHeadroom, held/4))
		g.prevLimit = debug.SetMemoryLimit(limit)
		g.prev = debug.SetGCPercent(g.percent)
	}
	g.n++
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.n--
			if g.n == 0 {
				debug.SetGCPercent(g.prev)
				debug.SetMemoryLimit(g.prevLimit)
			}
			g.mu.Unlock()
		})
	}
}
