package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker"
	"github.com/dartsync/dartsync/tracker/dashboard"
)

// testSecret is the admin secret of the test dashboards.
const testSecret = "abcdefghijklmnopqrstuvwxyz234567"

// t0 is the modification time of test manifests.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()

// startTracker runs a real tracker on loopback until the test ends.
func startTracker(t testing.TB) *tracker.Server {
	t.Helper()
	srv, err := tracker.New(tracker.ServerConfig{Listen: "127.0.0.1:0", StateDir: t.TempDir(), Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return srv
}

// nopHandler ignores what the tracker pushes, but says when it registered.
type nopHandler struct {
	once sync.Once
	reg  chan struct{}
}

func (h *nopHandler) Registered(tracker.RegisterInfo) { h.once.Do(func() { close(h.reg) }) }
func (h *nopHandler) Updates([]tracker.Entry)         {}
func (h *nopHandler) PeersChanged([]tracker.PeerInfo) {}

// joinClient connects a real client named name to srv (folder "") and waits
// for its registration.
func joinClient(t testing.TB, srv *tracker.Server, name, version string) *tracker.Client {
	t.Helper()
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	tok := srv.Token()
	h := &nopHandler{reg: make(chan struct{})}
	c := tracker.NewClient(tracker.ClientConfig{
		Addr: srv.Addr().String(), Identity: id, Tracker: tok.Tracker, Secret: tok.Secret[:], ListenPort: 4242,
		DeviceName: name, Version: version, Handler: h,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-h.reg:
	case <-time.After(30 * time.Second):
		t.Fatal("client did not register")
	}
	return c
}

// testFile is the manifest of a file with content (one piece per 4 KiB).
func testFile(path, content string, mtime int64, base manifest.ID) manifest.Manifest {
	const ps = manifest.MinPieceSize
	data := []byte(content)
	var pieces []manifest.Piece
	for off := 0; off < len(data); off += ps {
		end := min(off+ps, len(data))
		pieces = append(pieces, manifest.Piece{Hash: manifest.Hash(data[off:end]), Weak: manifest.WeakSum(data[off:end])})
	}
	return manifest.Manifest{Path: path, Size: int64(len(data)), ModTime: mtime, PieceSize: ps, Pieces: pieces,
		ID: manifest.FileID(int64(len(data)), ps, pieces), Base: base}
}

// report sends changes and checks their outcomes.
func report(t testing.TB, c *tracker.Client, want tracker.Outcome, ms ...manifest.Manifest) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs := make([]tracker.Change, len(ms))
	for i := range ms {
		cs[i] = tracker.Change{New: ms[i]}
	}
	rs, err := c.Update(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Outcome != want {
			t.Fatalf("%s: %v (%v), want %v", ms[i].Path, r.Outcome, r.Err, want)
		}
	}
}

// site is a dashboard served over real HTTP.
type site struct {
	*httptest.Server
	h *dashboard.Handler
}

func newSite(t testing.TB, srv *tracker.Server, mod func(*dashboard.Config)) *site {
	t.Helper()
	cfg := dashboard.Config{Source: srv.Overview(), Secret: testSecret, Version: "test"}
	if mod != nil {
		mod(&cfg)
	}
	h, err := dashboard.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return &site{Server: s, h: h}
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
func browser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get returns the status, Location and body of GET path.
func get(t testing.TB, c *http.Client, base, path string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), readAll(t, resp)
}

// login posts the form with secret and returns the response (body closed).
func login(t testing.TB, c *http.Client, base, secret, next string) *http.Response {
	t.Helper()
	resp, err := c.PostForm(base+"/login", url.Values{"secret": {secret}, "next": {next}})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	resp.Body.Close()
	return resp
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
