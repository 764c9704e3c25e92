package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds a Chromium or Chrome binary; "" if none.
func chromiumPath() string {
	if p := os.Getenv("DARTSYNC_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// freeTCPAddr returns a loopback TCP address nobody listens on now.
func freeTCPAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestDashboardInBrowser: a real tracker with its dashboard and two real
// peers; a real headless Chromium logs in with the admin secret, sees both
// devices online, and sees a file written in a peer appear in the change
// log; the tracker's /metrics (parsed with Prometheus's text parser) counts
// the commit and the pushes. The page is saved as a screenshot in the test's temporary directory
// (and at $DARTSYNC_DASHBOARD_PNG if set: docs/dashboard.png comes from here).
// It skips when no Chromium is installed.
func TestDashboardInBrowser(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("no chromium binary (apt-get install chromium)")
	}
	httpAddr := freeTCPAddr(t)
	c := &cluster{t: t, base: t.TempDir()}
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs()
		}
	})
	c.addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c.tracker = start(t, c.base, "tracker", "tracker", "--listen", c.addr, "--state", c.trackerState(),
		"--piece-size", strconv.Itoa(pieceSize), "--http", httpAddr, "--interval", "1s", "--peer-timeout", "5s")
	c.readToken()
	p1, p2 := c.addPeer("peer1", "--name", "laptop"), c.addPeer("peer2", "--name", "desktop")
	ids := []string{peerDevice(t, p1), peerDevice(t, p2)}
	base := "http://" + httpAddr

	// /healthz and /metrics need no secret; the pages do
	eventually(t, 20*time.Second, "dashboard /healthz", func() (bool, string) {
		code, body := httpGet(base + "/healthz")
		return code == 200 && body == "ok\n", fmt.Sprintf("%d %q", code, body)
	})
	if code, body := httpGet(base + "/metrics"); code != 200 || !strings.Contains(body, "dartsync_tracker_members 2") {
		t.Fatalf("/metrics: %d, members line missing", code)
	}
	secret, err := os.ReadFile(filepath.Join(c.trackerState(), "admin.secret"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(c.trackerState(), "admin.secret")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin.secret mode: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(filepath.Join(c.base, "tracker.log")); strings.Contains(string(b), strings.TrimSpace(string(secret))) {
		t.Fatal("the tracker logged its admin secret")
	}

	ctx := newBrowser(t, chromium)
	must(t, "open the dashboard", chromedp.Do(ctx,
		chromedp.Navigate(base+"/devices"),
		chromedp.WaitVisible(chromedp.ID("secret"))))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "/login") {
		t.Fatalf("not sent to the login form: %s %v", loc, err)
	}
	// a wrong secret first
	must(t, "wrong secret", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("secret"), "not-the-secret"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("login-error"))))
	if msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("login-error"))); err != nil || !strings.Contains(msg, "Wrong") {
		t.Fatalf("wrong secret: %q %v", msg, err)
	}
	must(t, "log in", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("secret"), strings.TrimSpace(string(secret))),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("devices"))))

	// both devices, online
	pageText := func(path, id string) (string, error) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.ID(id))); err != nil {
			return "", err
		}
		return chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	}
	eventually(t, 30*time.Second, "both devices online on /devices", func() (bool, string) {
		txt, err := pageText("/devices", "devices")
		if err != nil {
			return false, err.Error()
		}
		for _, want := range []string{ids[0][:7], ids[1][:7], "laptop", "desktop"} { // --name
			if !strings.Contains(txt, want) {
				return false, "no " + want + " in " + txt
			}
		}
		return strings.Count(txt, "online") >= 2, txt
	})

	// a file written in a peer shows in the change log
	writeFile(t, p1.dir, "hello from the browser test.txt", []byte("dashboard"), 0o644)
	eventually(t, syncWait, "the change on /changes", func() (bool, string) {
		txt, err := pageText("/changes", "changes")
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(txt, "hello from the browser test.txt") && strings.Contains(txt, "added"), txt
	})

	// the tracker's counters moved: the file was committed and pushed
	fams, err := scrapeMetrics(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if n := sample(fams, "dartsync_tracker_commits_total", map[string]string{"outcome": "accepted"}); n < 1 {
		t.Errorf("accepted commits = %v, want at least 1", n)
	}
	for _, name := range []string{"dartsync_tracker_pushes_total", "dartsync_tracker_files", "dartsync_tracker_connected_peers"} {
		if n := sample(fams, name, nil); n < 1 {
			t.Errorf("%s = %v, want at least 1", name, n)
		}
	}

	// the overview, as a screenshot
	must(t, "overview", chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 860),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("devices"))))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "dashboard.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(png) < 1000 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	if dst := os.Getenv("DARTSYNC_DASHBOARD_PNG"); dst != "" {
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))

	// logging out closes the pages again
	must(t, "log out", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("header button")),
		chromedp.WaitVisible(chromedp.ID("secret")),
		chromedp.Navigate(base+"/devices"),
		chromedp.WaitVisible(chromedp.ID("secret"))))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "/login") {
		t.Fatalf("after logout: %s %v", loc, err)
	}
	c.stopAll()
}

// newBrowser starts a headless Chromium with a fresh profile for the test.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 860),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancel() // closes the browser
		acancel()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser (no deadline on this first call)
		t.Fatalf("start %s: %v", path, err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(tcancel)
	return tctx
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// httpGet returns the status and body of GET url (0 if it failed).
func httpGet(url string) (int, string) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// peerDevice reads pp's device ID from its start line.
func peerDevice(t *testing.T, pp *peerProc) string {
	t.Helper()
	re := regexp.MustCompile(`msg="peer started".* device=([A-Z0-9-]+)`)
	var id string
	eventually(t, 20*time.Second, pp.name+" start line", func() (bool, string) {
		m := re.FindStringSubmatch(lastRun(t, pp))
		if m == nil {
			return false, "no start line"
		}
		id = m[1]
		return true, ""
	})
	return id
}
