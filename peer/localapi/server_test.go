package localapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fakeSource is a Source with a fixed status.
type fakeSource struct {
	st  Status
	bus *Bus
}

func (f *fakeSource) Status() Status { return f.st }
func (f *fakeSource) Events() *Bus   { return f.bus }

func testStatus() Status {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	return Status{
		Version: "v1.2.3", Device: "AAAAAAA-BBBBBBB", Short: "AAAAAAA", StateDir: "/state", Started: at,
		Tracker:   Tracker{Addr: "pi:7000", Connected: true, Since: at},
		Folders:   []Folder{{Name: "", Path: "/sync", State: StateSyncing, Files: 3, FilesInSync: 2, Bytes: 30, BytesInSync: 20, Wants: 1}},
		Peers:     []Peer{{Device: "CCCCCCC-DDDDDDD", Short: "CCCCCCC", Addr: "10.0.0.2:7001", Online: true, LastSeen: at, Folders: []string{""}}},
		Transfers: []Transfer{{Path: "big.bin", Size: 100, Done: 40, Rate: 10, ETA: 6, Sources: 1, Started: at}},
		Conflicts: []Conflict{{Path: "a.sync-conflict-20261203-100000-CCCCCCC.txt", Original: "a.txt", Device: "CCCCCCC", Time: at}},
		Errors:    []Error{{Time: at, Path: "x", Message: "fetch failed"}},
	}
}

// serve serves src's API on a real Unix socket in a temporary state
// directory; it returns the endpoint and a stop that cancels and waits.
func serve(t *testing.T, src Source) (control string, stop func() error) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Unix sockets")
	}
	ep, err := Listen(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ep, ep.Protect(Handler(ctx, src, http.NotFoundHandler()))) }()
	var stopped bool
	var serr error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			serr = <-done
		}
		return serr
	}
	t.Cleanup(func() { stop() })
	return ep.Path, stop
}

func TestListenSocketMode(t *testing.T) {
	control, _ := serve(t, &fakeSource{bus: NewBus()})
	fi, err := os.Stat(control)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control %s: mode %v, want a socket with 0600", control, fi.Mode())
	}
	if filepath.Base(control) != ControlFile {
		t.Fatalf("control %s, want %s", control, ControlFile)
	}
}

func TestClientReadsEveryEndpoint(t *testing.T) {
	want := testStatus()
	control, _ := serve(t, &fakeSource{st: want, bus: NewBus()})
	c := NewClient(control)
	defer c.Close()
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Device != want.Device || len(st.Folders) != 1 || st.Folders[0] != want.Folders[0] ||
		len(st.Transfers) != 1 || st.Transfers[0] != want.Transfers[0] || !st.Tracker.Since.Equal(want.Tracker.Since) {
		t.Fatalf("status %+v\nwant %+v", st, want)
	}
	fs, err := c.Folders(ctx)
	if err != nil || len(fs) != 1 || fs[0] != want.Folders[0] {
		t.Fatalf("folders %+v, %v", fs, err)
	}
	ts, err := c.Transfers(ctx)
	if err != nil || len(ts) != 1 || ts[0] != want.Transfers[0] {
		t.Fatalf("transfers %+v, %v", ts, err)
	}
	cs, err := c.Conflicts(ctx)
	if err != nil || len(cs) != 1 || cs[0] != want.Conflicts[0] {
		t.Fatalf("conflicts %+v, %v", cs, err)
	}
	raw, err := c.Raw(ctx, "/status")
	if err != nil || !strings.Contains(string(raw), `"files_in_sync": 2`) {
		t.Fatalf("raw status %s, %v", raw, err)
	}
}

// TestEndpoints: each path and method, the status code and the error the
// client reports.
func TestEndpoints(t *testing.T) {
	control, _ := serve(t, &fakeSource{st: Status{}, bus: NewBus()})
	tr, _ := clientTransport(control)
	hc := &http.Client{Transport: tr}
	for _, tt := range []struct {
		method, path string
		code         int
		body         string // a substring of the answer
	}{
		{"GET", "/v1/status", 200, `"folders": null`},
		{"GET", "/v1/folders", 200, "[]"},
		{"GET", "/v1/transfers", 200, "[]"},
		{"GET", "/v1/conflicts", 200, "[]"},
		{"HEAD", "/v1/status", 200, ""},
		{"POST", "/v1/status", 405, `"error": "method POST not allowed`},
		{"DELETE", "/v1/events", 405, `"error"`},
		{"GET", "/v2/status", 404, `"error": "no endpoint /v2/status`},
		{"GET", "/", 404, `"error"`},
		{"GET", "/metrics", 404, "404"},
	} {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, "http://dartsync"+tt.path, nil)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code || !strings.Contains(string(b), tt.body) {
				t.Fatalf("%s %s: %d %q, want %d with %q", tt.method, tt.path, resp.StatusCode, b, tt.code, tt.body)
			}
		})
	}
	_, err := NewClient(control).Raw(context.Background(), "/nothing")
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "no endpoint /v1/nothing") {
		t.Fatalf("client error %v, want the 404 and the server's message", err)
	}
}

func TestNotRunning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix sockets")
	}
	dir := t.TempDir()
	stale := ControlPath(dir)
	// A socket file nobody listens on (a peer killed with SIGKILL).
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	for _, tt := range []struct {
		name, control string
		wantErr       error
	}{
		{"no socket", filepath.Join(dir, "missing.sock"), ErrNotRunning},
		{"stale socket", stale, ErrNotRunning},
		{"no directory", filepath.Join(dir, "gone", ControlFile), ErrNotRunning},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient(tt.control).Status(context.Background())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "peer not running") {
				t.Fatalf("message %q does not begin with the plain reason", err)
			}
		})
	}
	// Listen replaces the stale socket; a second Listen finds it in use.
	ep, err := Listen(dir)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	defer ep.Close()
	if _, err := Listen(dir); !errors.Is(err, ErrInUse) {
		t.Fatalf("second listen: %v, want ErrInUse", err)
	}
}

// TestEventsStreamAndShutdown: events arrive in order as JSON lines; the
// server's shutdown ends an open stream at once (the client sees EOF) and
// Serve returns nil.
func TestEventsStreamAndShutdown(t *testing.T) {
	bus := NewBus()
	control, stop := serve(t, &fakeSource{bus: bus})
	c := NewClient(control)
	defer c.Close()
	es, err := c.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	waitSubscribers(t, bus, 1)
	bus.Publish(Event{Type: EventApplied, Path: "a"})
	bus.Publish(Event{Type: EventDeleted, Path: "b"})
	for i, want := range []Event{{Seq: 1, Type: EventApplied, Path: "a"}, {Seq: 2, Type: EventDeleted, Path: "b"}} {
		e, err := es.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != want.Seq || e.Type != want.Type || e.Path != want.Path || e.Time.IsZero() {
			t.Fatalf("event %d: %+v, want %+v", i, e, want)
		}
	}
	done := make(chan error, 1)
	go func() { done <- stop() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown waited for an open event stream")
	}
	if _, err := es.Next(); err == nil {
		t.Fatal("the stream goes on after shutdown")
	}
	if _, err := os.Stat(control); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left after shutdown: %v", err)
	}
}

// TestSlowReaderLosesEvents: a reader that does not read loses events
// beyond its buffer, and is told how many.
func TestSlowReaderLosesEvents(t *testing.T) {
	bus := NewBus()
	sub := bus.Subscribe()
	defer sub.Close()
	for range subscriberBuffer + 10 {
		bus.Publish(Event{Type: EventApplied})
	}
	if n := sub.Dropped(); n != 10 {
		t.Fatalf("dropped %d, want 10", n)
	}
	if n := sub.Dropped(); n != 0 {
		t.Fatalf("dropped again %d, want 0 (the count resets)", n)
	}
	var nilBus *Bus
	nilBus.Publish(Event{}) // a nil bus discards
}

func waitSubscribers(t *testing.T, b *Bus, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		got := len(b.subs)
		b.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
