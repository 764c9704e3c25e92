package tracker

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
)

// errLog is a slog handler that keeps the "err" attribute of every record.
type errLog struct {
	mu   *sync.Mutex
	errs *[]error
}

func newErrLog() errLog { return errLog{mu: new(sync.Mutex), errs: new([]error)} }

func (h errLog) Enabled(context.Context, slog.Level) bool { return true }
func (h errLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h errLog) WithGroup(string) slog.Handler            { return h }
func (h errLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && a.Key == "err" {
			h.mu.Lock()
			*h.errs = append(*h.errs, err)
			h.mu.Unlock()
		}
		return true
	})
	return nil
}

func (h errLog) any(f func(error) bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, err := range *h.errs {
		if f(err) {
			return true
		}
	}
	return false
}

// TestClientRecognisesRestartedTracker: the tracker process is killed
// (SIGKILL: nobody is told) and started again on its address. Its new
// process answers the clients' next packets with stateless resets (its
// reset key comes from its identity), so the clients' connections end with
// that error, not at their idle timeout (longer than the test's waits), and
// they register again; changes flow again between them. The clients have
// nothing to say meanwhile, and the keep-alive interval is longer than the
// test's waits too: their probes are what reaches the new process.
func TestClientRecognisesRestartedTracker(t *testing.T) {
	recognisesRestart(t, transport.ModeQUIC, transport.IsStatelessReset)
}

// TestClientRecognisesRestartedTrackerOverTCP: the same over TCP, where the
// killed process's kernel ends the connections (and the new one would
// answer a probe of an old one with a reset): the sessions end as lost
// (transport.ErrConnLost) and the clients register again.
func TestClientRecognisesRestartedTrackerOverTCP(t *testing.T) {
	recognisesRestart(t, transport.ModeTCP, transport.IsConnLost)
}

func recognisesRestart(t *testing.T, mode transport.Mode, ended func(error) bool) {
	if testing.Short() {
		t.Skip("starts tracker processes")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "interval"), []byte(DefaultInterval.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	child, addr := startChild(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "listen"), []byte(addr), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ParseToken(string(b))
	if err != nil {
		t.Fatal(err)
	}
	logA, logB := newErrLog(), newErrLog()
	withLog := func(h errLog) clientOpt {
		return func(c *ClientConfig) {
			c.Log = slog.New(h)
			d := NewDialer(DialerConfig{Addr: c.Addr, Identity: c.Identity, Tracker: c.Tracker,
				Net: transport.NewDialer(c.Identity, transport.Options{}, mode)})
			t.Cleanup(func() { d.Close() })
			c.Dialer = d
		}
	}
	a := startClient(t, addr, tok, nil, withLog(logA))
	bc := startClient(t, addr, tok, nil, withLog(logB))
	a.registered(t)
	bc.registered(t)
	a.update(t, testFile("before.txt", "before the kill", t0, manifest.ID{}))
	bc.rec.wait(t, "the file before the kill", func(r *recorder) bool { _, ok := r.entry("before.txt"); return ok })

	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if _, again := startChild(t, dir); again != addr {
		t.Fatalf("restarted on %s, want %s", again, addr)
	}
	for _, c := range []*testClient{a, bc} {
		c.rec.wait(t, "registered again", func(r *recorder) bool { return len(r.regs) >= 2 })
	}
	for name, l := range map[string]errLog{"a": logA, "b": logB} {
		if !l.any(ended) {
			t.Errorf("client %s: no connection ended as a restart over %s does", name, mode)
		}
	}
	a.update(t, testFile("after.txt", "after the restart", t0, manifest.ID{}))
	bc.rec.wait(t, "the file after the restart", func(r *recorder) bool { _, ok := r.entry("after.txt"); return ok })
}
