package peer

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dartsync/dartsync/internal/identity"
)

// scrape fetches url over HTTP and parses it with Prometheus's text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

// metricValue returns the value of the sample of family name whose labels
// include want (the sum over all matching samples; a histogram's count),
// and whether any matched.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	fam, ok := fams[name]
	if !ok {
		return 0, false
	}
	var sum float64
	found := false
next:
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum, found
}

// TestMetricsMoveAsAFileSyncs: two daemons over real QUIC; a file written
// on a reaches b; b's /metrics, scraped over HTTP and parsed with the
// Prometheus text parser, shows the bytes and pieces received, the file
// applied and fetch latencies, a's shows the pieces it sent; every name
// starts with dartsync_ (or is the Go runtime's or the process's).
func TestMetricsMoveAsAFileSyncs(t *testing.T) {
	n := newTestNet(t) // 16 KiB pieces
	a := n.start(t.TempDir())
	b := n.start(t.TempDir())
	srvA := httptest.NewServer(a.d.MetricsHandler())
	defer srvA.Close()
	srvB := httptest.NewServer(b.d.MetricsHandler())
	defer srvB.Close()

	before := scrape(t, srvB.URL)
	for _, name := range []string{"dartsync_files_applied_total", "dartsync_received_bytes_total", "dartsync_received_pieces_total"} {
		if v, ok := metricValue(before, name, map[string]string{"folder": ""}); !ok || v != 0 {
			t.Fatalf("before the sync: %s = %v (present %v), want 0", name, v, ok)
		}
	}
	if v, _ := metricValue(before, "dartsync_peers_online", nil); v != 1 {
		t.Errorf("dartsync_peers_online = %v, want 1 (a)", v)
	}

	data := make([]byte, 10*16<<10+123) // 11 pieces
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.root, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "big.bin on b", fileIs(filepath.Join(b.root, "big.bin"), data))
	// Counters are read at each scrape: poll until the apply is counted.
	var after map[string]*dto.MetricFamily
	waitFor(t, "files applied counted", func() bool {
		after = scrape(t, srvB.URL)
		v, _ := metricValue(after, "dartsync_files_applied_total", map[string]string{"folder": ""})
		return v >= 1
	})

	checks := []struct {
		fams   map[string]*dto.MetricFamily
		name   string
		labels map[string]string
		min    float64
	}{
		{after, "dartsync_received_pieces_total", map[string]string{"kind": "whole"}, 11},
		{after, "dartsync_received_bytes_total", map[string]string{"kind": "whole"}, float64(len(data))},
		{after, "dartsync_network_received_bytes_total", nil, float64(len(data))},
		{after, "dartsync_fetch_piece_duration_seconds", map[string]string{"kind": "whole"}, 11},
		{after, "dartsync_files_applied_total", nil, 1},
		{after, "dartsync_scans_total", nil, 1},
		{after, "go_goroutines", nil, 1},
	}
	for _, c := range checks {
		if v, ok := metricValue(c.fams, c.name, c.labels); !ok || v < c.min {
			t.Errorf("b: %s%v = %v (present %v), want >= %v", c.name, c.labels, v, ok, c.min)
		}
	}
	famsA := scrape(t, srvA.URL)
	for _, c := range []struct {
		name string
		min  float64
	}{
		{"dartsync_sent_pieces_total", 11},
		{"dartsync_sent_bytes_total", float64(len(data))},
		{"dartsync_local_changes_total", 1},
	} {
		if v, ok := metricValue(famsA, c.name, nil); !ok || v < c.min {
			t.Errorf("a: %s = %v (present %v), want >= %v", c.name, v, ok, c.min)
		}
	}
	for _, fams := range []map[string]*dto.MetricFamily{after, famsA} {
		checkNames(t, fams)
	}
}

// checkNames fails for a metric family outside dartsync_, go_ and process_.
func checkNames(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	own := 0
	for name := range fams {
		switch {
		case strings.HasPrefix(name, "dartsync_"):
			own++
		case strings.HasPrefix(name, "go_"), strings.HasPrefix(name, "process_"):
		default:
			t.Errorf("metric %s: name does not start with dartsync_", name)
		}
	}
	if own < 20 {
		t.Errorf("only %d dartsync_ metric families: %v", own, fmt.Sprint(len(fams)))
	}
}

// TestMetricsAddr: with Config.MetricsAddr, Run serves /metrics over HTTP
// there until it stops (then the port is closed); an address that cannot
// be bound ends Run with an error.
func TestMetricsAddr(t *testing.T) {
	n := newTestNet(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()
	tests := []struct {
		name    string
		addr    string
		wantErr bool
	}{
		{"free", freeAddr, false},
		{"taken", taken.Addr().String(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state")
			id, err := identity.LoadOrCreate(state)
			if err != nil {
				t.Fatal(err)
			}
			d, err := New(Config{
				Root: t.TempDir(), StateDir: state, Identity: id,
				TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Secret: append([]byte(nil), n.token.Secret[:]...),
				ListenAddr: "127.0.0.1:0", Rescan: -1, Log: testLog(), MetricsAddr: tt.addr, Version: "v9.9.9",
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()
			if tt.wantErr {
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), "metrics listen") {
						t.Fatalf("Run = %v, want a metrics listen error", err)
					}
				case <-time.After(30 * time.Second):
					t.Fatal("Run still running with the metrics address taken")
				}
				return
			}
			url := "http://" + tt.addr + "/metrics"
			waitFor(t, "metrics served", func() bool {
				resp, err := http.Get(url)
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == http.StatusOK
			})
			fams := scrape(t, url)
			if v, ok := metricValue(fams, "dartsync_build_info", map[string]string{"version": "v9.9.9"}); !ok || v != 1 {
				t.Errorf("dartsync_build_info{version=v9.9.9} = %v (present %v), want 1", v, ok)
			}
			checkNames(t, fams)
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			if resp, err := http.Get(url); err == nil {
				resp.Body.Close()
				t.Errorf("metrics still served after Run returned")
			}
		})
	}
}

// TestMetricsCountDeltasByKind: one byte inserted into a synced file: the
// receiver's metrics count pieces found in its old version and rebuilt
// from a delta, and a delta fetch latency; the sender's count a delta sent.
func TestMetricsCountDeltasByKind(t *testing.T) {
	old := randomData(t, 1<<20)
	a, b := syncedPair(t, "big.bin", old)
	srvA := httptest.NewServer(a.d.MetricsHandler())
	defer srvA.Close()
	srvB := httptest.NewServer(b.d.MetricsHandler())
	defer srvB.Close()
	before := scrape(t, srvB.URL)

	at := 300000
	nw := slices.Concat(old[:at], []byte{'X'}, old[at:])
	replaceFile(t, filepath.Join(a.root, "big.bin"), nw)
	waitFor(t, "b has the new version", fileIs(filepath.Join(b.root, "big.bin"), nw))
	var after map[string]*dto.MetricFamily
	waitFor(t, "the apply counted", func() bool {
		after = scrape(t, srvB.URL)
		v, _ := metricValue(after, "dartsync_files_applied_total", nil)
		w, _ := metricValue(before, "dartsync_files_applied_total", nil)
		return v > w
	})
	grew := func(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
		v, _ := metricValue(fams, name, labels)
		w, _ := metricValue(before, name, labels)
		return v - w
	}
	for _, c := range []struct {
		name string
		kind string
	}{
		{"dartsync_received_pieces_total", "found"},
		{"dartsync_received_pieces_total", "delta"},
		{"dartsync_received_bytes_total", "delta"},
		{"dartsync_fetch_piece_duration_seconds", "delta"},
	} {
		if d := grew(after, c.name, map[string]string{"kind": c.kind}); d <= 0 {
			t.Errorf("b: %s{kind=%s} grew by %v, want > 0", c.name, c.kind, d)
		}
	}
	if d := grew(after, "dartsync_delta_received_bytes_total", nil); d <= 0 || d > deltaTestPiece/4 {
		t.Errorf("b: delta bytes received grew by %v, want a little", d)
	}
	famsA := scrape(t, srvA.URL)
	if v, _ := metricValue(famsA, "dartsync_sent_pieces_total", map[string]string{"kind": "delta"}); v < 1 {
		t.Errorf("a: dartsync_sent_pieces_total{kind=delta} = %v, want >= 1", v)
	}
}
