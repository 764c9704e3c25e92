package dashboard

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// cookieSeeds are FuzzSessionCookie's seeds: a valid cookie and near misses.
func cookieSeeds(a *auth) []string {
	good := a.issue().Value
	return []string{good, "v1.1.2.x", "v1...", "v2." + good[3:], good + ".", "", "v1.-1.99999999999.abc"}
}

// FuzzSessionCookie: no cookie value crashes the check, and only a value
// this tracker signed is accepted.
func FuzzSessionCookie(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	a := newAuth("abcdefghijklmnopqrstuvwxyz234567", time.Hour, rate.Inf, 1, func() time.Time { return now })
	good := a.issue().Value
	for _, s := range cookieSeeds(a) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r, _ := http.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: CookieName, Value: v})
		if err := a.valid(r); err == nil && r.Header.Get("Cookie") != CookieName+"="+good {
			t.Fatalf("accepted a cookie it did not issue: %q", v)
		}
	})
}

// TestCookieSeeds writes testdata/fuzz/FuzzSessionCookie/seed-* when
// DARTSYNC_WRITE_SEEDS=1; otherwise it checks they are there.
func TestCookieSeeds(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := newAuth("abcdefghijklmnopqrstuvwxyz234567", time.Hour, rate.Inf, 1, func() time.Time { return now })
	dir := filepath.Join("testdata", "fuzz", "FuzzSessionCookie")
	for i, s := range cookieSeeds(a) {
		p := filepath.Join(dir, fmt.Sprintf("seed-%d", i))
		if os.Getenv("DARTSYNC_WRITE_SEEDS") == "1" {
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(p, fmt.Appendf(nil, "go test fuzz v1\nstring(%q)\n", s), 0o644); err != nil {
				t.Fatal(err)
			}
		} else if _, err := os.Stat(p); err != nil {
			t.Errorf("missing seed %s (run with DARTSYNC_WRITE_SEEDS=1): %v", p, err)
		}
	}
}
