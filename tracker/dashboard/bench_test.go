package dashboard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/tracker"
)

// BenchmarkPages renders each page of a tracker holding 100 000 files
// (DARTSYNC_DASH_FILES overrides the count) in two folders, 1 000 of them
// with a conflict copy, and reports the time per page and its size.
func BenchmarkPages(b *testing.B) {
	files := 100_000
	if v, err := strconv.Atoi(os.Getenv("DARTSYNC_DASH_FILES")); err == nil && v > 0 {
		files = v
	}
	srv := startTracker(b)
	c1 := joinClient(b, srv, "laptop", "v1")
	c2 := joinClient(b, srv, "desktop", "v1")
	start := time.Now()
	batch := make([]manifest.Manifest, 0, tracker.MaxBatch)
	flush := func(c *tracker.Client, want tracker.Outcome) {
		if len(batch) > 0 {
			report(b, c, want, batch...)
			batch = batch[:0]
		}
	}
	var first []manifest.Manifest
	for i := range files {
		m := testFile(fmt.Sprintf("dir%03d/file%06d.txt", i%500, i), "content of file "+strconv.Itoa(i), t0, manifest.ID{})
		if i < 1000 {
			first = append(first, m)
		}
		if batch = append(batch, m); len(batch) == cap(batch) {
			flush(c1, tracker.Accepted)
		}
	}
	flush(c1, tracker.Accepted)
	for _, m := range first { // concurrent edits: 1 000 conflict copies
		if batch = append(batch, testFile(m.Path, "other content", t0-1, manifest.ID{})); len(batch) == cap(batch) {
			flush(c2, tracker.Conflict)
		}
	}
	flush(c2, tracker.Conflict)
	b.Logf("%d files reported in %v", files, time.Since(start).Round(time.Millisecond))
	if tot := srv.Overview().Totals(); tot.Files != files+1000 || tot.Conflicts != 1000 {
		b.Fatalf("totals %+v", tot)
	}

	s := newSite(b, srv, nil)
	c := browser(b)
	login(b, c, s.URL, testSecret, "/")
	cookies := c.Jar.Cookies(mustURL(b, s.URL))
	for _, p := range pagePaths {
		b.Run(p, func(b *testing.B) {
			req := httptest.NewRequest("GET", p, nil)
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			size := 0
			for b.Loop() {
				w := httptest.NewRecorder()
				s.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", p, w.Code)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/page")
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}
