package e2e

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeMetrics GETs url and parses it with Prometheus's text parser.
func scrapeMetrics(url string) (map[string]*dto.MetricFamily, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// sample sums the samples of name whose labels include want (a counter's
// or gauge's value, a histogram's count).
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
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

// TestPeerMetricsFlag: `dartsync peer --metrics ADDR` serves /metrics over
// HTTP; the counters move as a file syncs between two real processes, and
// every name starts with dartsync_ (Go runtime and process metrics aside).
// The start lines of tracker and peer carry the version, the device ID and
// the state directory.
func TestPeerMetricsFlag(t *testing.T) {
	c := newCluster(t, 0)
	addr1 := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	addr2 := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	p1 := c.addPeer("peer1", "--metrics", addr1)
	p2 := c.addPeer("peer2", "--metrics", addr2)
	url2 := "http://" + addr2 + "/metrics"

	before, err := scrapeMetrics(url2)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 20*pieceSize+5)
	writeFile(t, p1.dir, "sub/data.bin", data, 0o644)
	c.waitAll("data.bin synced", tree{"sub": "dir", "sub/data.bin": fileEntry(data, false)})

	var after map[string]*dto.MetricFamily
	eventually(t, 20*time.Second, "peer2's counters moved", func() (bool, string) {
		after, err = scrapeMetrics(url2)
		if err != nil {
			return false, err.Error()
		}
		got := sample(after, "dartsync_files_applied_total", nil)
		return got >= 1, fmt.Sprintf("files applied %v", got)
	})
	for _, ch := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"dartsync_received_pieces_total", map[string]string{"kind": "whole"}, 20},
		{"dartsync_received_bytes_total", map[string]string{"kind": "whole"}, float64(len(data))},
		{"dartsync_network_received_bytes_total", nil, float64(len(data))},
		{"dartsync_fetch_piece_duration_seconds", map[string]string{"kind": "whole"}, 20},
		{"dartsync_files_applied_total", nil, 1},
	} {
		b, a := sample(before, ch.name, ch.labels), sample(after, ch.name, ch.labels)
		if a-b < ch.min {
			t.Errorf("%s%v: %v before, %v after: want it to grow by >= %v", ch.name, ch.labels, b, a, ch.min)
		}
	}
	fams1, err := scrapeMetrics("http://" + addr1 + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if got := sample(fams1, "dartsync_sent_bytes_total", map[string]string{"kind": "whole"}); got < float64(len(data)) {
		t.Errorf("peer1 dartsync_sent_bytes_total{kind=whole} = %v, want >= %d", got, len(data))
	}
	for _, fams := range []map[string]*dto.MetricFamily{fams1, after} {
		for name := range fams {
			if !strings.HasPrefix(name, "dartsync_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
				t.Errorf("metric %s: name does not start with dartsync_", name)
			}
		}
		if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
			t.Error("no Go runtime or process metrics")
		}
	}

	for _, pp := range []*peerProc{p1, p2} {
		line := grepLines(lastRun(t, pp), "peer started")
		for _, want := range []string{"version=", "device=", "state=" + quoteIfNeeded(pp.state)} {
			if !strings.Contains(line, want) {
				t.Errorf("%s start line %q lacks %q", pp.name, line, want)
			}
		}
	}
	c.stopAll()
	b, err := os.ReadFile(c.tracker.log.Name())
	if err != nil {
		t.Fatal(err)
	}
	line := grepLines(string(b), "tracker started")
	for _, want := range []string{"version=", "device=", "state=" + quoteIfNeeded(c.trackerState())} {
		if !strings.Contains(line, want) {
			t.Errorf("tracker start line %q lacks %q", line, want)
		}
	}
}

// quoteIfNeeded is how slog's text handler writes the value s.
func quoteIfNeeded(s string) string {
	if strings.ContainsAny(s, " \"=") {
		return fmt.Sprintf("%q", s)
	}
	return s
}
