package tracker

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		runChildTracker(dir) // never returns
	}
	goleak.VerifyTestMain(m)
}

// waitLimit bounds every wait for an event; reaching it is a failure, not a
// measurement.
const waitLimit = 20 * time.Second

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// startServer opens a tracker on loopback in dir and serves it until the
// test ends. Each setup runs on the opened server before it serves (test
// hooks must be set before any session goroutine can read them).
func startServer(t testing.TB, dir string, cfg ServerConfig, setup ...func(*Server)) *Server {
	t.Helper()
	cfg.StateDir = dir
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Interval == 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = testLog(t).With("side", "tracker")
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return s
}

// recorder is a Handler that records everything pushed to it.
type recorder struct {
	mu      sync.Mutex
	regs    []RegisterInfo
	entries []Entry
	peers   [][]PeerInfo
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) Registered(i RegisterInfo) {
	r.mu.Lock()
	r.regs = append(r.regs, i)
	r.mu.Unlock()
	r.signal()
}

func (r *recorder) Updates(es []Entry) {
	r.mu.Lock()
	r.entries = append(r.entries, es...)
	r.mu.Unlock()
	r.signal()
}

func (r *recorder) PeersChanged(ps []PeerInfo) {
	r.mu.Lock()
	r.peers = append(r.peers, ps)
	r.mu.Unlock()
	r.signal()
}

// epoch is the tracker epoch of the last registration.
func (r *recorder) epoch() Epoch {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.regs) == 0 {
		return Epoch{}
	}
	return r.regs[len(r.regs)-1].Epoch
}

// lastSeq is the highest sequence number received.
func (r *recorder) lastSeq() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s uint64
	for _, e := range r.entries {
		s = max(s, e.Seq)
	}
	return s
}

// wait waits until cond (called with r.mu held) holds.
func (r *recorder) wait(t testing.TB, what string, cond func(r *recorder) bool) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond(r)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline.C:
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// entry returns the latest pushed entry for path (r.mu held).
func (r *recorder) entry(path string) (Entry, bool) {
	for i := len(r.entries) - 1; i >= 0; i-- {
		if r.entries[i].Manifest.Path == path {
			return r.entries[i], true
		}
	}
	return Entry{}, false
}

// currentPeers returns the latest peer list (r.mu held).
func (r *recorder) currentPeers() []PeerInfo {
	if len(r.peers) > 0 {
		return r.peers[len(r.peers)-1]
	}
	if len(r.regs) > 0 {
		return r.regs[len(r.regs)-1].Peers
	}
	return nil
}

func hasPeer(ps []PeerInfo, id identity.DeviceID) bool {
	return slices.ContainsFunc(ps, func(p PeerInfo) bool { return p.ID == id })
}

func ownedBy(e Entry, ids ...identity.DeviceID) bool {
	if len(e.Owners) != len(ids) {
		return false
	}
	for _, id := range ids {
		if !slices.Contains(e.Owners, id) {
			return false
		}
	}
	return true
}

// testClient is a running Client with its recorder.
type testClient struct {
	*Client
	id     *identity.Identity
	rec    *recorder
	cancel context.CancelFunc
	done   chan error
}

type clientOpt func(*ClientConfig)

func withSecret(b []byte) clientOpt         { return func(c *ClientConfig) { c.Secret = b } }
func withLastSeq(f func() uint64) clientOpt { return func(c *ClientConfig) { c.LastSeq = f } }
func withLastEpoch(e Epoch) clientOpt {
	return func(c *ClientConfig) { c.LastEpoch = func() Epoch { return e } }
}

// withResume makes the client register with the last sequence number and
// epoch r recorded: a client that keeps its state (it never re-announces
// anything, which is right only for a state of pushes alone).
func withResume(r *recorder) clientOpt {
	return func(c *ClientConfig) { c.LastSeq, c.LastEpoch = r.lastSeq, r.epoch }
}
func withRecorder(r *recorder) clientOpt { return func(c *ClientConfig) { c.Handler = r } }
func withTracker(d identity.DeviceID) clientOpt {
	return func(c *ClientConfig) { c.Tracker = d }
}

// startClient runs a client of s (by default joining with the token's
// secret) until stop or the end of the test.
func startClient(t testing.TB, addr string, tok Token, id *identity.Identity, opts ...clientOpt) *testClient {
	t.Helper()
	if id == nil {
		id = newTestIdentity(t)
	}
	rec := newRecorder()
	cfg := ClientConfig{
		Addr: addr, Identity: id, Tracker: tok.Tracker, Secret: tok.Secret[:], ListenPort: 4242,
		Handler: rec, Log: testLog(t).With("side", "client", "device", id.ID.Short()),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if r, ok := cfg.Handler.(*recorder); ok {
		rec = r // withRecorder
	}
	ctx, cancel := context.WithCancel(context.Background())
	tc := &testClient{Client: NewClient(cfg), id: id, rec: rec, cancel: cancel, done: make(chan error, 1)}
	go func() { tc.done <- tc.Run(ctx) }()
	t.Cleanup(func() { tc.stop(t) })
	return tc
}

// stop cancels the client and checks that Run returned nil.
func (tc *testClient) stop(t testing.TB) {
	t.Helper()
	if tc.cancel == nil {
		return
	}
	tc.cancel()
	tc.cancel = nil
	select {
	case err := <-tc.done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Run did not return after cancel")
	}
}

// runErr waits for Run to return by itself and returns its error.
func (tc *testClient) runErr(t testing.TB) error {
	t.Helper()
	select {
	case err := <-tc.done:
		tc.cancel()
		tc.cancel = nil
		return err
	case <-time.After(waitLimit):
		t.Fatal("Run did not return")
		return nil
	}
}

func (tc *testClient) registered(t testing.TB) RegisterInfo {
	t.Helper()
	tc.rec.wait(t, "registration", func(r *recorder) bool { return len(r.regs) > 0 })
	tc.rec.mu.Lock()
	defer tc.rec.mu.Unlock()
	return tc.rec.regs[len(tc.rec.regs)-1]
}

func (tc *testClient) update(t testing.TB, ms ...manifest.Manifest) []Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cs := make([]Change, len(ms))
	for i := range ms {
		cs[i] = Change{New: ms[i]}
	}
	rs, err := tc.Update(ctx, cs)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return rs
}
