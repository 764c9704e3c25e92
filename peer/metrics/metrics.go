package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Kinds of pieces (see doc.go).
const (
	KindLocal = "local"
	KindFound = "found"
	KindDelta = "delta"
	KindWhole = "whole"
)

// Moved counts pieces and their bytes.
type Moved struct {
	Pieces int64
	Bytes  int64
}

// Folder is one folder's counters at a scrape. Counters only grow while a
// daemon runs; the gauges (PendingWants, PeersOnline, Paused, Scanning) are
// current values.
type Folder struct {
	Name string // the folder label

	// Pieces of fetched versions put in place, by kind; Bytes are piece
	// bytes (for delta: the bytes of the rebuilt pieces).
	Local, Found, Delta, Whole Moved
	NetworkBytes               int64 // bytes received over the network: whole pieces and deltas
	SignatureBytes             int64 // delta signatures sent
	DeltaBytes                 int64 // deltas received (also in NetworkBytes)
	DeltaFailed                int64 // deltas that failed (the piece was fetched whole)
	UploadBytes                int64 // piece bytes read from this folder to serve other peers

	FilesApplied int64
	FilesDeleted int64
	LocalChanges int64
	Conflicts    int64
	Scans        int64
	Reannounces  int64

	PendingWants int64 // wants left after the last pull round
	PeersOnline  int   // live peers of the folder, as the tracker reports them
	Paused       bool
}

// Device is the device-wide state at a scrape.
type Device struct {
	FetchFiles       int // files being fetched now
	FetchRequests    int // piece requests in flight
	SourcesConnected int // devices this peer holds fetch connections to
	RemotesConnected int // devices connected to this peer's piece server
	// SendLimit and RecvLimit are the bandwidth limits in bytes per
	// second (0: none); SentLimited and ReceivedLimited the piece bytes
	// that went through them (peer/bandwidth).
	SendLimit, RecvLimit         int64
	SentLimited, ReceivedLimited int64
}

// Source is what the collector reads at each scrape. Both methods are
// called from the scraping goroutine, concurrently with the daemon, and
// must be cheap (no disk or network I/O).
type Source interface {
	MetricFolders() []Folder
	MetricDevice() Device
}

// Metrics is one daemon's registry and the metrics it observes itself.
type Metrics struct {
	reg          *prometheus.Registry
	fetchLatency *prometheus.HistogramVec
	sentPieces   *prometheus.CounterVec
	sentBytes    *prometheus.CounterVec
	logRecords   *prometheus.CounterVec
}

// New returns the metrics of a daemon that reads its counters from src;
// version is the running dartsync version (dartsync_build_info).
func New(version string, src Source) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		fetchLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dartsync_fetch_piece_duration_seconds",
			Help:    "Time from sending a piece request to the verified arrival of the piece, by kind (whole, delta).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15), // 1 ms to ~16 s
		}, []string{"kind"}),
		sentPieces: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dartsync_sent_pieces_total",
			Help: "Pieces sent in full to other peers by the piece server, by kind (whole, delta).",
		}, []string{"kind"}),
		sentBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dartsync_sent_bytes_total",
			Help: "Bytes sent to other peers by the piece server: whole pieces, and deltas, by kind (whole, delta).",
		}, []string{"kind"}),
		logRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dartsync_errors_total",
			Help: "Problems the peer logged, by level (warn, error).",
		}, []string{"level"}),
	}
	for _, k := range []string{KindWhole, KindDelta} {
		m.fetchLatency.WithLabelValues(k)
		m.sentPieces.WithLabelValues(k)
		m.sentBytes.WithLabelValues(k)
	}
	for _, l := range []string{"warn", "error"} {
		m.logRecords.WithLabelValues(l)
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "dartsync_build_info",
		Help:        "Always 1; the label version is the running dartsync version.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	info.Set(1)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		info, m.fetchLatency, m.sentPieces, m.sentBytes, m.logRecords,
		newCollector(src),
	)
	return m
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObservePiece is the fetcher's transfer.PieceObserver.
func (m *Metrics) ObservePiece(delta bool, latency time.Duration, n int) {
	m.fetchLatency.WithLabelValues(kindOf(delta)).Observe(latency.Seconds())
}

// ObserveServed is the piece server's transfer.ServedObserver.
func (m *Metrics) ObserveServed(delta bool, n int) {
	k := kindOf(delta)
	m.sentPieces.WithLabelValues(k).Inc()
	m.sentBytes.WithLabelValues(k).Add(float64(n))
}

func kindOf(delta bool) string {
	if delta {
		return KindDelta
	}
	return KindWhole
}

// LogHandler wraps h so that every WARN and ERROR record it handles is
// counted in dartsync_errors_total.
func (m *Metrics) LogHandler(h slog.Handler) slog.Handler {
	return &countingHandler{Handler: h, m: m}
}

type countingHandler struct {
	slog.Handler
	m *Metrics
}

// Enabled is true for warnings and errors whatever the log level, so they
// are counted even when they are not printed.
func (c *countingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || c.Handler.Enabled(ctx, l)
}

func (c *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	switch {
	case r.Level >= slog.LevelError:
		c.m.logRecords.WithLabelValues("error").Inc()
	case r.Level >= slog.LevelWarn:
		c.m.logRecords.WithLabelValues("warn").Inc()
	}
	if !c.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return c.Handler.Handle(ctx, r)
}

func (c *countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &countingHandler{Handler: c.Handler.WithAttrs(as), m: c.m}
}

func (c *countingHandler) WithGroup(name string) slog.Handler {
	return &countingHandler{Handler: c.Handler.WithGroup(name), m: c.m}
}
