package simtest

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

// settings of one simulation run.
type settings struct {
	peers  int
	ops    int
	window time.Duration // SyncWindow (doc.go, "Could sync")
	settle time.Duration // quiet time that ends quiescence
	quiet  time.Duration // deadline for quiescence
	logDir string        // failing runs' logs go here ("" = not written)
}

// envInt reads a positive integer from the environment, else def.
func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// envDuration sets *d from the environment, if set there.
func envDuration(t *testing.T, name string, d *time.Duration) {
	s := os.Getenv(name)
	if s == "" {
		return
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		t.Fatalf("%s=%q: want a positive duration", name, s)
	}
	*d = v
}

// TestSimulation runs the simulation of doc.go for a few seeds (more with
// DARTSYNC_SIM_SEEDS).
func TestSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("the simulation runs for tens of seconds")
	}
	st := settings{
		peers:  3,
		ops:    envInt(t, "DARTSYNC_SIM_OPS", 80),
		window: 3 * time.Second,
		settle: 2 * time.Second,
		quiet:  3 * time.Minute,
		logDir: os.Getenv("DARTSYNC_SIM_LOG"),
	}
	envDuration(t, "DARTSYNC_SIM_WINDOW", &st.window)
	envDuration(t, "DARTSYNC_SIM_QUIET", &st.quiet)
	first := envInt(t, "DARTSYNC_SIM_SEED", 1)
	seeds := envInt(t, "DARTSYNC_SIM_SEEDS", 2)
	for seed := first; seed < first+seeds; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runSeed(t, uint64(seed), st) })
	}
}

// known reports whether the comma-separated list names name.
func known(list, name string) bool {
	for _, k := range strings.Split(list, ",") {
		if strings.TrimSpace(k) == name {
			return true
		}
	}
	return false
}

// run is one simulation: its parts, its generator and its records.
type run struct {
	t       *testing.T
	st      settings
	seed    uint64
	rnd     *rand.Rand
	begin   time.Time
	dir     string
	sink    *logSink
	tr      *simTracker
	peers   []*simPeer
	tl      *timeline
	book    *book
	log     []string // the operation log
	nver    int      // contents written so far (each content is unique)
	snaps   []string // copies of the stopped tracker's state directory
	summary string   // what checkVersions found
	stuck   string   // quiescence found wants that never go (see quiesce)
}

func runSeed(t *testing.T, seed uint64, st settings) {
	r := &run{
		t: t, st: st, seed: seed, rnd: rand.New(rand.NewPCG(seed, seed^0x5eed)),
		begin: time.Now(), dir: t.TempDir(), sink: &logSink{}, tl: newTimeline(), book: newBook(),
	}
	level := slog.LevelInfo
	if st.logDir != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(r.sink, &slog.HandlerOptions{Level: level}))
	defer r.shutdown()
	defer r.report()
	r.tr = newTracker(filepath.Join(r.dir, "tracker"), log)
	if err := r.tr.start(); err != nil {
		t.Fatal(err)
	}
	r.tl.mark(trackerWho, true)
	for i := range st.peers {
		p := &simPeer{
			idx: i, name: fmt.Sprintf("p%d", i), root: filepath.Join(r.dir, fmt.Sprintf("p%d", i)),
			state: filepath.Join(r.dir, fmt.Sprintf("state%d", i)),
		}
		p.log = log.With("who", p.name)
		id, err := identity.LoadOrCreate(p.state)
		if err != nil {
			t.Fatal(err)
		}
		p.id = id
		if err := p.start(r.tr, r.tl); err != nil {
			t.Fatal(err)
		}
		r.peers = append(r.peers, p)
		// One after the other: the tracker may not tell two peers
		// registering at the same moment about each other.
		r.waitLive(p)
	}
	r.logf("-", "start: tracker at %s, %d peers", r.tr.addr, st.peers)
	for i := 0; i < st.ops && !t.Failed(); i++ {
		r.step()
		r.checkAlive()
	}
	if t.Failed() {
		return
	}
	r.finish()
	r.quiesce()
	if t.Failed() {
		return
	}
	r.check()
	if r.stuck != "" {
		if known(os.Getenv("DARTSYNC_SIM_KNOWN"), "stuck-wants") {
			r.t.Logf("known problem: %s", r.stuck)
		} else {
			r.t.Errorf("%s (no peer has these versions; DARTSYNC_SIM_KNOWN=stuck-wants reports them without failing)", r.stuck)
		}
	}
}

// waitLive waits for p's first scan.
func (r *run) waitLive(p *simPeer) {
	r.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for p.d.Stats().ScansCompleted == 0 {
		if err := p.failed(); err != nil {
			r.t.Fatal(err)
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: no first scan in a minute", p.name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkAlive fails the run if a daemon stopped by itself.
func (r *run) checkAlive() {
	for _, p := range r.peers {
		if err := p.failed(); err != nil {
			r.t.Errorf("%v", err)
		}
	}
}

// logf appends a line to the operation log.
func (r *run) logf(who, format string, args ...any) {
	line := fmt.Sprintf("%3d %8.3fs %-3s %s", len(r.log), time.Since(r.begin).Seconds(), who, fmt.Sprintf(format, args...))
	r.log = append(r.log, line)
}

// report prints the seed and the operation log of a failed run, and writes
// its logs to st.logDir if set.
func (r *run) report() {
	if !r.t.Failed() && r.stuck == "" {
		return
	}
	r.t.Logf("seed %d failed or stuck (DARTSYNC_SIM_SEED=%d DARTSYNC_SIM_SEEDS=1 DARTSYNC_SIM_OPS=%d); operations:\n%s",
		r.seed, r.seed, r.st.ops, strings.Join(r.log, "\n"))
	if r.st.logDir == "" {
		return
	}
	name := filepath.Join(r.st.logDir, fmt.Sprintf("sim-seed-%d.log", r.seed))
	out := append([]byte(strings.Join(r.log, "\n")+"\n\n"), r.sink.bytes()...)
	if err := os.WriteFile(name, out, 0o644); err != nil {
		r.t.Logf("write log: %v", err)
		return
	}
	r.t.Logf("logs: %s", name)
}

// shutdown stops every daemon and the tracker.
func (r *run) shutdown() {
	for _, p := range r.peers {
		if err := p.stop(r.tl); err != nil && !errIdentity(err) {
			r.t.Errorf("%s: Run: %v", p.name, err)
		}
	}
	if err := r.tr.stop(); err != nil {
		r.t.Errorf("tracker Run: %v", err)
	}
}

// finish brings everything up for quiescence: the tracker (a clean start)
// and every stopped peer.
func (r *run) finish() {
	if !r.tr.up() {
		r.trackerStart("clean")
	}
	for _, p := range r.peers {
		if !p.running() {
			r.peerStart(p)
		}
	}
	r.logf("-", "end of operations: everything up")
	for _, p := range r.peers {
		r.waitLive(p)
	}
	r.lastEdits()
}

// lastEdits lets every earlier operation sync, then edits or deletes a few
// paths once each and often takes the tracker back to a backup right
// after: their results must be what the folders end with (doc.go, 3).
func (r *run) lastEdits() {
	time.Sleep(r.st.window + time.Second)
	ps := filePaths()
	r.rnd.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	for _, rel := range ps[:4] {
		p := r.anyPeer()
		if old, ok := p.file(rel); ok && r.pick(3) == 0 {
			if err := os.Remove(p.abs(rel)); err != nil {
				r.t.Errorf("%s delete %s: %v", p.name, rel, err)
				return
			}
			r.book.removed(len(r.log), p.idx, rel, old, time.Now())
			r.logf(p.name, "last edit: delete %s", rel)
			continue
		}
		r.put(p, rel, r.content(r.size()), "last edit: write")
	}
	if r.pick(3) > 0 {
		time.Sleep(time.Duration(r.pick(300)) * time.Millisecond)
		opTrackerStop(r)
		mode := "restore"
		if len(r.snaps) < 2 {
			mode = "clean"
		}
		r.trackerStart(mode)
	}
}
