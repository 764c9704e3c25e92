package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Swarming (docs/PROTOCOL.md "Swarming"): new peers that download the same
// file at once serve each other the pieces they have verified.

// swarmResult is one run of runSwarm.
type swarmResult struct {
	took     []time.Duration // by new peer: from their start until the file was in place
	sent     []int64         // by new peer: piece bytes it served
	seedSent int64
}

func (r swarmResult) slowest() time.Duration {
	var s time.Duration
	for _, d := range r.took {
		s = max(s, d)
	}
	return s
}

func (r swarmResult) String() string {
	s := fmt.Sprintf("all done in %.2fs; seed sent %d MiB", r.slowest().Seconds(), r.seedSent>>20)
	for i := range r.took {
		s += fmt.Sprintf("; new%d: %.2fs, sent %d MiB", i+1, r.took[i].Seconds(), r.sent[i]>>20)
	}
	return s
}

// newPeerProc adds a peer to c without starting it.
func (c *cluster) newPeerProc(name string) *peerProc {
	pp := &peerProc{
		name:  name,
		dir:   filepath.Join(c.base, name, "folder"),
		state: filepath.Join(c.base, name, "state"),
		port:  freePort(c.t),
	}
	c.peers = append(c.peers, pp)
	return pp
}

// startSeed starts a peer named seed with data as big.bin, serving at most
// rate bytes per second, and waits until it has reported the file.
func startSeed(tb testing.TB, c *cluster, data []byte, rate int) *peerProc {
	tb.Helper()
	seed := c.newPeerProc("seed")
	writeFile(tb, seed.dir, "big.bin", data, 0o644)
	c.startPeer(seed, true, "--max-send", strconv.Itoa(rate)+"B/s")
	eventually(tb, syncWait, "seed reported big.bin", func() (bool, string) {
		s, err := readStats(seed.state)
		return err == nil && s.LocalChanges > 0, fmt.Sprintf("%+v %v", s, err)
	})
	return seed
}

// launchNew starts n new peers at once, joining with the token, with
// extra flags.
func launchNew(c *cluster, n int, extra ...string) []*peerProc {
	out := make([]*peerProc, n)
	for i := range out {
		out[i] = c.newPeerProc(fmt.Sprintf("new%d", i+1))
	}
	for _, pp := range out {
		c.launchPeer(pp, true, extra...)
	}
	return out
}

// waitBig waits until big.bin of size bytes is in pp's folder (a
// download is renamed into place only complete and verified) and returns
// when it saw it.
func waitBig(tb testing.TB, pp *peerProc, size int) time.Time {
	tb.Helper()
	p := filepath.Join(pp.dir, "big.bin")
	deadline := time.Now().Add(5 * syncWait)
	for {
		if fi, err := os.Stat(p); err == nil && fi.Size() == int64(size) {
			return time.Now()
		}
		if time.Now().After(deadline) {
			tb.Fatalf("big.bin not on %s after %v", pp.name, 5*syncWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runSwarm runs one seed serving rate bytes per second and n new peers
// started at once (with extra flags), until each has the data, and reads
// what each sent.
func runSwarm(tb testing.TB, n, size, rate int, extra ...string) swarmResult {
	c := newCluster(tb, 0)
	data := randomBytes(tb, size)
	seed := startSeed(tb, c, data, rate)
	begin := time.Now()
	news := launchNew(c, n, extra...)
	var r swarmResult
	for _, pp := range news {
		r.took = append(r.took, waitBig(tb, pp, size).Sub(begin))
	}
	for _, pp := range news {
		if got, err := os.ReadFile(filepath.Join(pp.dir, "big.bin")); err != nil || !bytes.Equal(got, data) {
			tb.Fatalf("big.bin on %s differs from the seed's (%v)", pp.name, err)
		}
	}
	for _, pp := range append(news, seed) {
		s, err := readCounters(pp.state, "bytes_sent")
		if err != nil {
			tb.Fatal(err)
		}
		if pp == seed {
			r.seedSent = s["bytes_sent"]
		} else {
			r.sent = append(r.sent, s["bytes_sent"])
		}
	}
	c.stopAll()
	return r
}

// Three new peers join at once a seed with a slow uplink: they trade the
// pieces they have, so together they sent a substantial share of what
// they received (without swarming they send nothing). Times are logged,
// not asserted (BenchmarkSwarm measures them).
func TestSwarmNewPeersServeEachOther(t *testing.T) {
	const size, n = 16 << 20, 3
	r := runSwarm(t, n, size, 4<<20)
	t.Logf("%d new peers, %d MiB, seed at 4 MiB/s: %v", n, size>>20, r)
	var sent int64
	for _, s := range r.sent {
		sent += s
	}
	if sent < size/2 {
		t.Errorf("new peers sent each other %d bytes of the %d they received: not swarming", sent, n*size)
	}
}

// The seed leaves once the two new peers together hold every piece, each
// only part of them: they complete from each other.
func TestSwarmCompletesAfterSeedLeaves(t *testing.T) {
	const size = 16 << 20
	c := newCluster(t, 0)
	data := randomBytes(t, size)
	seed := startSeed(t, c, data, 2<<20)
	news := launchNew(c, 2)
	var held []int
	eventually(t, syncWait, "the new peers together hold every piece", func() (bool, string) {
		union := make([]bool, size/pieceSize)
		held = held[:0]
		for _, pp := range news {
			h := heldPieces(pp, data)
			held = append(held, count(h))
			for i, ok := range h {
				union[i] = union[i] || ok
			}
		}
		return count(union) == len(union), fmt.Sprintf("%d of %d pieces (%v)", count(union), len(union), held)
	})
	seed.p.kill()
	t.Logf("seed killed when the new peers held %v of %d pieces (a new peer holding all of them had completed first)", held, size/pieceSize)
	for _, pp := range news {
		waitBig(t, pp, size)
		if got, _ := os.ReadFile(filepath.Join(pp.dir, "big.bin")); !bytes.Equal(got, data) {
			t.Fatalf("big.bin on %s differs", pp.name)
		}
	}
	for _, pp := range news {
		pp.p.stop()
	}
	c.tracker.stop()
}

// The seed leaves after sending about half the file: the pieces it sent
// are only with the new peers, each holding part of them, and they trade
// them with each other (each ends with all that either had) while no owner
// is online. Then the seed comes back and both complete.
func TestSwarmHoldersTradeWithoutOwner(t *testing.T) {
	const size = 16 << 20
	c := newCluster(t, 0)
	data := randomBytes(t, size)
	seed := startSeed(t, c, data, 1<<20)
	news := launchNew(c, 2)
	union := func() ([]bool, []int) {
		u := make([]bool, size/pieceSize)
		var each []int
		for _, pp := range news {
			h := heldPieces(pp, data)
			each = append(each, count(h))
			for i, ok := range h {
				u[i] = u[i] || ok
			}
		}
		return u, each
	}
	eventually(t, syncWait, "the new peers together hold half the pieces", func() (bool, string) {
		u, each := union()
		return count(u) >= len(u)/2, fmt.Sprintf("%d of %d (%v)", count(u), len(u), each)
	})
	seed.p.kill()
	time.Sleep(300 * time.Millisecond) // pieces in flight land or are lost
	u, each := union()
	t.Logf("seed killed: the new peers held %v pieces, %d together, of %d", each, count(u), len(u))
	for _, pp := range news {
		eventually(t, syncWait, pp.name+" holds every piece either held", func() (bool, string) {
			h := heldPieces(pp, data)
			missing := 0
			for i, ok := range u {
				if ok && !h[i] {
					missing++
				}
			}
			return missing == 0, fmt.Sprintf("%d missing", missing)
		})
	}
	c.startPeer(seed, false)
	for _, pp := range news {
		waitBig(t, pp, size)
		if got, _ := os.ReadFile(filepath.Join(pp.dir, "big.bin")); !bytes.Equal(got, data) {
			t.Fatalf("big.bin on %s differs", pp.name)
		}
	}
	c.stopAll()
}

// heldPieces reports, by piece index, which pieces of data pp has: in its
// folder (the file is complete) or at their offsets in a partial download.
func heldPieces(pp *peerProc, data []byte) []bool {
	out := make([]bool, len(data)/pieceSize)
	if b, err := os.ReadFile(filepath.Join(pp.dir, "big.bin")); err == nil && bytes.Equal(b, data) {
		for i := range out {
			out[i] = true
		}
		return out
	}
	parts, _ := filepath.Glob(filepath.Join(pp.state, "partial", "*.part"))
	for _, p := range parts {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for i := range out {
			off := i * pieceSize
			if off+pieceSize <= len(b) && bytes.Equal(b[off:off+pieceSize], data[off:off+pieceSize]) {
				out[i] = true
			}
		}
	}
	return out
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// BenchmarkSwarm: one seed whose uplink is limited (--max-send,
// DARTSYNC_SWARM_RATE bytes/s, default 8 MiB/s) and a file of
// DARTSYNC_SWARM_MIB MiB (default 100): one new peer alone, then four new
// peers started at once, and four without swarming (--debug-no-swarm).
// Metrics: s/all-done (until the last new peer has the file), and the
// bytes the seed and the new peers sent (logged per peer with -v).
//
//	go test ./cmd/dartsync/e2e -run '^$' -bench Swarm -benchtime 1x -v
func BenchmarkSwarm(b *testing.B) {
	mib, rate := 100, 8<<20
	if v, err := strconv.Atoi(os.Getenv("DARTSYNC_SWARM_MIB")); err == nil && v > 0 {
		mib = v
	}
	if v, err := strconv.Atoi(os.Getenv("DARTSYNC_SWARM_RATE")); err == nil && v > 0 {
		rate = v
	}
	for _, tc := range []struct {
		n     int
		extra []string
	}{{1, nil}, {4, nil}, {4, []string{"--debug-no-swarm"}}} {
		n := tc.n
		name := fmt.Sprintf("new=%d", n)
		if tc.extra != nil {
			name += ",no-swarm"
		}
		b.Run(name, func(b *testing.B) {
			var all time.Duration
			var seedSent, newSent int64
			for range b.N {
				r := runSwarm(b, n, mib<<20, rate, tc.extra...)
				b.Logf("%d new peer(s), %d MiB, seed at %.1f MiB/s: %v", n, mib, float64(rate)/(1<<20), r)
				all += r.slowest()
				seedSent += r.seedSent
				for _, s := range r.sent {
					newSent += s
				}
			}
			k := float64(b.N)
			b.ReportMetric(all.Seconds()/k, "s/all-done")
			b.ReportMetric(float64(seedSent)/k/(1<<20), "MiB-seed-sent")
			b.ReportMetric(float64(newSent)/k/(1<<20), "MiB-new-sent")
		})
	}
}
