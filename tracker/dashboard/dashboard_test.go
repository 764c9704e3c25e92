package dashboard_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker"
	"github.com/dartsync/dartsync/tracker/dashboard"
)

var pagePaths = []string{"/", "/devices", "/folders", "/changes", "/conflicts"}

// TestPagesNeedLogin: every page but /metrics, /healthz and the login form
// sends a browser without a valid session cookie to the login form.
func TestPagesNeedLogin(t *testing.T) {
	s := newSite(t, startTracker(t), nil)
	c := browser(t)
	for _, p := range pagePaths {
		code, loc, _ := get(t, c, s.URL, p)
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
			t.Errorf("GET %s without login: %d %q, want 303 to /login", p, code, loc)
		}
	}
	for _, p := range []string{"/metrics", "/healthz", "/login"} {
		if code, _, _ := get(t, c, s.URL, p); code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", p, code)
		}
	}
	if code, _, body := get(t, c, s.URL, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, _, _ := get(t, c, s.URL, "/nothing-here"); code != http.StatusNotFound {
		t.Errorf("unknown path: %d, want 404", code)
	}
}

// TestLogin: the form's answers to right and wrong secrets, and where it
// sends the browser on.
func TestLogin(t *testing.T) {
	s := newSite(t, startTracker(t), func(c *dashboard.Config) { c.LoginBurst = 100 })
	tests := []struct {
		name, secret, next string
		wantCode           int
		wantLoc            string
		wantCookie         bool
	}{
		{"right secret", testSecret, "/devices", http.StatusSeeOther, "/devices", true},
		{"right secret, spaces around", " " + testSecret + "\n", "", http.StatusSeeOther, "/", true},
		{"wrong secret", "abcdefghijklmnopqrstuvwxyz234568", "/", http.StatusUnauthorized, "", false},
		{"prefix of the secret", testSecret[:10], "/", http.StatusUnauthorized, "", false},
		{"empty secret", "", "/", http.StatusUnauthorized, "", false},
		{"the join token is not it", "ALNGHUF-AUIRXQ5:AAAA", "/", http.StatusUnauthorized, "", false},
		{"next elsewhere is ignored", testSecret, "//evil.example/x", http.StatusSeeOther, "/", true},
		{"next absolute URL is ignored", testSecret, "https://evil.example/", http.StatusSeeOther, "/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := login(t, browser(t), s.URL, tt.secret, tt.next)
			var got *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == dashboard.CookieName {
					got = ck
				}
			}
			if resp.StatusCode != tt.wantCode || resp.Header.Get("Location") != tt.wantLoc || (got != nil) != tt.wantCookie {
				t.Fatalf("got %d %q cookie %v, want %d %q cookie %v", resp.StatusCode, resp.Header.Get("Location"), got != nil,
					tt.wantCode, tt.wantLoc, tt.wantCookie)
			}
		})
	}
}

// TestLoginRateLimit: past the burst, attempts from one address get 429,
// the right secret too, until the limiter refills.
func TestLoginRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newSite(t, startTracker(t), func(c *dashboard.Config) {
		c.LoginBurst, c.LoginEvery, c.Now = 3, time.Minute, clock
	})
	c := browser(t)
	for i := range 3 {
		if resp := login(t, c, s.URL, "wrong-wrong-wrong-wrong", "/"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	if resp := login(t, c, s.URL, testSecret, "/"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("attempt past the burst: %d, want 429", resp.StatusCode)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if resp := login(t, c, s.URL, testSecret, "/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after a refill: %d, want 303", resp.StatusCode)
	}
}

// TestSessionCookie: the cookie is HttpOnly and SameSite=Strict, opens
// every page, expires, is not accepted by a dashboard with another secret,
// and logging out ends it.
func TestSessionCookie(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	src := startTracker(t)
	s := newSite(t, src, func(c *dashboard.Config) { c.Now, c.SessionTTL = clock, time.Hour })
	c := browser(t)
	resp := login(t, c, s.URL, testSecret, "/")
	var ck *http.Cookie
	for _, x := range resp.Cookies() {
		if x.Name == dashboard.CookieName {
			ck = x
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.MaxAge != 3600 || ck.Path != "/" {
		t.Fatalf("session cookie %+v", ck)
	}
	if strings.Contains(ck.Value, testSecret) {
		t.Fatal("the cookie carries the secret")
	}
	for _, p := range pagePaths {
		if code, _, _ := get(t, c, s.URL, p); code != http.StatusOK {
			t.Errorf("GET %s logged in: %d", p, code)
		}
	}
	// a dashboard with another secret does not take it
	other := newSite(t, src, func(cfg *dashboard.Config) { cfg.Secret = strings.ToUpper(testSecret) })
	req, _ := http.NewRequest("GET", other.URL+"/devices", nil)
	req.AddCookie(ck)
	if code := do(t, c, req); code != http.StatusSeeOther {
		t.Fatalf("cookie on another tracker: %d, want 303", code)
	}
	// a tampered cookie is refused
	req, _ = http.NewRequest("GET", s.URL+"/devices", nil)
	bad := *ck
	bad.Value = strings.Replace(bad.Value, "v1.", "v1.1", 1)
	req.AddCookie(&bad)
	if code := do(t, browser(t), req); code != http.StatusSeeOther {
		t.Fatalf("tampered cookie: %d, want 303", code)
	}
	// expiry
	mu.Lock()
	now = now.Add(time.Hour + time.Second)
	mu.Unlock()
	if code, _, _ := get(t, c, s.URL, "/"); code != http.StatusSeeOther {
		t.Fatalf("expired cookie: %d, want 303", code)
	}
	// logout ends the session, even for a copy of the cookie
	login(t, c, s.URL, testSecret, "/")
	saved := c.Jar.Cookies(mustURL(t, s.URL))
	lreq, _ := http.NewRequest("POST", s.URL+"/logout", nil)
	if code := do(t, c, lreq); code != http.StatusSeeOther {
		t.Fatalf("logout: %d, want 303", code)
	}
	c2 := browser(t)
	c2.Jar.SetCookies(mustURL(t, s.URL), saved)
	if code, _, _ := get(t, c2, s.URL, "/"); code != http.StatusSeeOther {
		t.Fatalf("cookie after logout: %d, want 303", code)
	}
}

// TestEveryPageRenders: with two devices, files in two folders, a deletion
// and a conflict, each page shows what it is for.
func TestEveryPageRenders(t *testing.T) {
	srv := startTracker(t)
	a := joinClient(t, srv, "laptop <b>", "v1.2.3")
	b := joinClient(t, srv, "pi-kitchen", "v1.2.4")
	x := testFile("notes.txt", "hello", t0, manifest.ID{})
	report(t, a, tracker.Accepted, x, testFile("photos/cat.jpg", strings.Repeat("c", 3000), t0, manifest.ID{}))
	report(t, b, tracker.Conflict, testFile("notes.txt", "hello from b", t0+1, manifest.ID{}))
	report(t, a, tracker.Accepted, manifest.NewTombstone("photos/cat.jpg", manifest.KindFile,
		testFile("photos/cat.jpg", strings.Repeat("c", 3000), t0, manifest.ID{}).ID, t0+2))

	s := newSite(t, srv, nil)
	c := browser(t)
	login(t, c, s.URL, testSecret, "/")
	conflict := tracker.ConflictName("notes.txt", t0, srv.Overview().Devices()[0].ID)
	for _, d := range srv.Overview().Devices() {
		if d.Name == "laptop <b>" {
			conflict = tracker.ConflictName("notes.txt", t0, d.ID)
		}
	}
	tests := []struct {
		path string
		want []string
	}{
		{"/", []string{"laptop &lt;b&gt;", "pi-kitchen", "online", "notes.txt", ">2</strong>"}},
		{"/devices", []string{"laptop &lt;b&gt;", "v1.2.3", "pi-kitchen", "v1.2.4", "127.0.0.1:4242", "online"}},
		{"/folders", []string{"(default)", ">2<", "17 B"}},
		{"/changes", []string{"notes.txt", "photos/cat.jpg", "deleted", "conflict copy", "added"}},
		{"/conflicts", []string{conflict}},
	}
	for _, tt := range tests {
		code, _, body := get(t, c, s.URL, tt.path)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d", tt.path, code)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s: no %q in\n%s", tt.path, w, body)
			}
		}
		if strings.Contains(body, "laptop <b>") {
			t.Errorf("GET %s: a device name is not escaped", tt.path)
		}
	}
}

// TestMetrics: /metrics parses with Prometheus's text parser, every name
// starts with dartsync_tracker_ (runtime and process aside), and the
// counters move after a commit.
func TestMetrics(t *testing.T) {
	srv := startTracker(t)
	s := newSite(t, srv, nil)
	c := joinClient(t, srv, "laptop", "v1")
	before := scrape(t, s.URL)
	report(t, c, tracker.Accepted, testFile("a.txt", "aaaa", t0, manifest.ID{}), testFile("b.txt", "bb", t0, manifest.ID{}))
	after := scrape(t, s.URL)
	for name := range after {
		if !strings.HasPrefix(name, "dartsync_tracker_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("metric %s outside the dartsync_tracker_ namespace", name)
		}
	}
	accepted := map[string]string{"outcome": "accepted"}
	if d := value(after, "dartsync_tracker_commits_total", accepted) - value(before, "dartsync_tracker_commits_total", accepted); d != 2 {
		t.Errorf("accepted commits moved by %v, want 2", d)
	}
	for name, want := range map[string]float64{
		"dartsync_tracker_files": 2, "dartsync_tracker_bytes": 6, "dartsync_tracker_members": 1,
		"dartsync_tracker_connected_peers": 1, "dartsync_tracker_conflict_copies": 0,
	} {
		if got := value(after, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"go_goroutines", "dartsync_tracker_push_latency_seconds", "dartsync_tracker_pushes_total"} {
		if after[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

// TestSecretFile: the admin secret is made once, 0600, different from the
// join token, and a file others may read is refused.
func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	s1, err := dashboard.LoadOrCreateSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := dashboard.LoadOrCreateSecret(dir)
	if err != nil || s1 != s2 || len(s1) < 32 {
		t.Fatalf("second load %q %v, first %q", s2, err, s1)
	}
	p := filepath.Join(dir, dashboard.SecretFile)
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := dashboard.LoadOrCreateSecret(dir); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("world-readable secret: %v", err)
	}
	os.WriteFile(p, []byte("\n"), 0o600)
	os.Chmod(p, 0o600)
	if _, err := dashboard.LoadOrCreateSecret(dir); err == nil {
		t.Fatal("empty secret file accepted")
	}
}

func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := browser(t).Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value sums the samples of name whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	var sum float64
next:
	for _, m := range fams[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; ok && v != l.GetValue() {
				continue next
			}
		}
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
	}
	return sum
}

// do sends req and returns the status (the body read and closed).
func do(t *testing.T, c *http.Client, req *http.Request) int {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	readAll(t, resp)
	return resp.StatusCode
}
