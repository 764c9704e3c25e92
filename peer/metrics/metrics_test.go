package metrics

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// fixed is a Source with set values.
type fixed struct {
	folders []Folder
	dev     Device
}

func (f fixed) MetricFolders() []Folder { return f.folders }
func (f fixed) MetricDevice() Device    { return f.dev }

func gather(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value returns the value of the one sample of name with exactly labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	fam := fams[name]
	if fam == nil {
		t.Fatalf("no metric %s", name)
	}
	want := strings.Join(labels, ",")
next:
	for _, m := range fam.GetMetric() {
		var got []string
		for _, l := range m.GetLabel() {
			got = append(got, l.GetName()+"="+l.GetValue())
		}
		if strings.Join(got, ",") != want {
			continue next
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no sample %s{%s}", name, want)
	return 0
}

// TestCollectorReadsSource: each folder's counters appear under its folder
// label and kind; device values and observed events appear once.
func TestCollectorReadsSource(t *testing.T) {
	src := fixed{
		folders: []Folder{
			{Name: "photos", Local: Moved{1, 10}, Found: Moved{2, 20}, Delta: Moved{3, 30}, Whole: Moved{4, 40},
				FilesApplied: 5, Conflicts: 6, PendingWants: 7, PeersOnline: 2, Paused: true},
			{Name: "docs", Whole: Moved{9, 90}},
		},
		dev: Device{FetchFiles: 3, FetchRequests: 8, SourcesConnected: 2, RemotesConnected: 1,
			SendLimit: 5e6, SentLimited: 12345, ReceivedLimited: 6},
	}
	m := New("v1.2.3", src)
	m.ObservePiece(false, 3*time.Millisecond, 100)
	m.ObservePiece(true, 5*time.Millisecond, 100)
	m.ObservePiece(true, 7*time.Millisecond, 100)
	m.ObserveServed(false, 1000)
	m.ObserveServed(true, 77)
	fams := gather(t, m)
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"dartsync_received_pieces_total", []string{"folder=photos", "kind=local"}, 1},
		{"dartsync_received_bytes_total", []string{"folder=photos", "kind=found"}, 20},
		{"dartsync_received_bytes_total", []string{"folder=photos", "kind=delta"}, 30},
		{"dartsync_received_pieces_total", []string{"folder=photos", "kind=whole"}, 4},
		{"dartsync_received_bytes_total", []string{"folder=docs", "kind=whole"}, 90},
		{"dartsync_files_applied_total", []string{"folder=photos"}, 5},
		{"dartsync_conflicts_total", []string{"folder=photos"}, 6},
		{"dartsync_pending_wants", []string{"folder=photos"}, 7},
		{"dartsync_peers_online", []string{"folder=photos"}, 2},
		{"dartsync_folder_paused", []string{"folder=photos"}, 1},
		{"dartsync_folder_paused", []string{"folder=docs"}, 0},
		{"dartsync_fetch_files", nil, 3},
		{"dartsync_fetch_requests_in_flight", nil, 8},
		{"dartsync_connected_peers", []string{"direction=out"}, 2},
		{"dartsync_connected_peers", []string{"direction=in"}, 1},
		{"dartsync_bandwidth_limit_bytes_per_second", []string{"direction=send"}, 5e6},
		{"dartsync_bandwidth_limit_bytes_per_second", []string{"direction=recv"}, 0},
		{"dartsync_bandwidth_limited_bytes_total", []string{"direction=send"}, 12345},
		{"dartsync_bandwidth_limited_bytes_total", []string{"direction=recv"}, 6},
		{"dartsync_fetch_piece_duration_seconds", []string{"kind=whole"}, 1},
		{"dartsync_fetch_piece_duration_seconds", []string{"kind=delta"}, 2},
		{"dartsync_sent_bytes_total", []string{"kind=whole"}, 1000},
		{"dartsync_sent_pieces_total", []string{"kind=delta"}, 1},
		{"dartsync_build_info", []string{"version=v1.2.3"}, 1},
	}
	for _, tt := range tests {
		if got := value(t, fams, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s{%v} = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Error("no Go runtime or process metrics")
	}
}

// TestLogHandlerCountsWarnings: warnings and errors are counted even when
// the log level hides them; what the level shows is still written.
func TestLogHandlerCountsWarnings(t *testing.T) {
	m := New("", fixed{})
	var buf bytes.Buffer
	log := slog.New(m.LogHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}))).With("k", "v")
	log.Info("ignored")
	log.Warn("hidden warning")
	log.Warn("another")
	log.Error("shown error")
	fams := gather(t, m)
	if got := value(t, fams, "dartsync_errors_total", "level=warn"); got != 2 {
		t.Errorf("warnings = %v, want 2", got)
	}
	if got := value(t, fams, "dartsync_errors_total", "level=error"); got != 1 {
		t.Errorf("errors = %v, want 1", got)
	}
	out := buf.String()
	if strings.Contains(out, "warning") || !strings.Contains(out, "shown error") || !strings.Contains(out, "k=v") {
		t.Errorf("log output %q: want only the error, with its attributes", out)
	}
}
