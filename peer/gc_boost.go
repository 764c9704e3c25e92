package peer

import (
	"runtime/debug"
	"sync"
)

// smallBatchGC is how many single-piece files a pull phase must hold
// before it raises the garbage collector's target (Config.SmallFilesGC).
const smallBatchGC = 64

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
// nothing.
type gcBoost struct {
	percent int // the target while boosted; 0: never boost

	mu   sync.Mutex
	n    int // phases boosted now
	prev int // the GC percent before the first of them
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
			}
			g.mu.Unlock()
		})
	}
}
