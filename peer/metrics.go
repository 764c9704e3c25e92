package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dartsync/dartsync/peer/metrics"
	"github.com/dartsync/dartsync/peer/transfer"
)

// metricsShutdown bounds the shutdown of the metrics HTTP server.
const metricsShutdown = 2 * time.Second

// observers are the daemon's Prometheus metrics (peer/metrics) and what
// they read: the folders' Stats at each scrape, and the fetcher and piece
// server once Run has made them. It is metrics.Source.
type observers struct {
	m       *metrics.Metrics
	d       *Daemon // set by New before anyone can scrape
	fetcher atomic.Pointer[transfer.Fetcher]
	server  atomic.Pointer[transfer.Server]
}

func newObservers(version string) *observers {
	o := &observers{}
	o.m = metrics.New(version, o)
	return o
}

// wrapLog counts the warnings and errors log logs (dartsync_errors_total).
func (o *observers) wrapLog(log *slog.Logger) *slog.Logger {
	return slog.New(o.m.LogHandler(log.Handler()))
}

// fetchOptions adds the latency observer to opt.
func (o *observers) fetchOptions(opt transfer.FetchOptions) transfer.FetchOptions {
	opt.Observe = o.m
	return opt
}

// running records the fetcher and the server of a Run.
func (o *observers) running(f *transfer.Fetcher, s *transfer.Server) {
	o.fetcher.Store(f)
	o.server.Store(s)
}

// MetricFolders implements metrics.Source: each folder's counters.
func (o *observers) MetricFolders() []metrics.Folder {
	out := make([]metrics.Folder, 0, len(o.d.folders))
	for _, f := range o.d.folders {
		out = append(out, f.metrics())
	}
	return out
}

// metrics is the folder's metrics.Folder.
func (f *folder) metrics() metrics.Folder {
	s := f.stats.Snapshot()
	paused, _ := f.guard.get()
	return metrics.Folder{
		Name:  f.name,
		Local: metrics.Moved{Pieces: s.PiecesLocal, Bytes: s.BytesLocal},
		Found: metrics.Moved{Pieces: s.PiecesFound, Bytes: s.BytesFound},
		Delta: metrics.Moved{Pieces: s.PiecesDelta, Bytes: s.BytesDelta},
		// BytesReceived counts whole pieces and deltas (statsCounter).
		Whole:        metrics.Moved{Pieces: s.PiecesFetched, Bytes: s.BytesReceived - s.DeltaBytesReceived},
		NetworkBytes: s.BytesReceived, SignatureBytes: s.DeltaBytesSent, DeltaBytes: s.DeltaBytesReceived,
		DeltaFailed: s.DeltaFailed, UploadBytes: s.BytesSent,
		FilesApplied: s.FilesApplied, FilesDeleted: s.FilesDeleted, LocalChanges: s.LocalChanges,
		Conflicts: s.Conflicts, Scans: s.ScansCompleted, Reannounces: s.Reannounces,
		PendingWants: s.PendingWants, PeersOnline: f.state.livePeers(), Paused: paused,
	}
}

// MetricDevice implements metrics.Source: the fetcher's and the piece
// server's load (zero before Run).
func (o *observers) MetricDevice() metrics.Device {
	var dev metrics.Device
	if f := o.fetcher.Load(); f != nil {
		l := f.Load()
		dev.FetchFiles, dev.FetchRequests, dev.SourcesConnected = l.Files, l.Requests, l.Sources
	}
	if s := o.server.Load(); s != nil {
		dev.RemotesConnected = s.Remotes()
	}
	if o.d != nil {
		l := apiLimits(o.d.bw)
		dev.SendLimit, dev.RecvLimit, dev.SentLimited, dev.ReceivedLimited = l.MaxSend, l.MaxRecv, l.SentLimited, l.ReceivedLimited
	}
	return dev
}

// livePeers returns how many live peers the tracker reported.
func (s *syncState) livePeers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.peers)
}

// MetricsHandler serves the daemon's Prometheus metrics (text format);
// mount it at /metrics.
func (d *Daemon) MetricsHandler() http.Handler { return d.obs.m.Handler() }

// serveMetrics serves MetricsHandler at /metrics on Config.MetricsAddr (TCP)
// in g until ctx ends; nothing when the address is empty. A listen error is
// returned at once (a port in use is fatal, like the piece server's).
func (d *Daemon) serveMetrics(ctx context.Context, g *errgroup.Group) error {
	if d.cfg.MetricsAddr == "" {
		return nil
	}
	l, err := net.Listen("tcp", d.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("peer: metrics listen %s: %w", d.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.MetricsHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	d.log.Info("metrics serving", "url", "http://"+l.Addr().String()+"/metrics")
	g.Go(func() error {
		err := srv.Serve(l)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("peer: metrics: %w", err)
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), metricsShutdown)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		return nil
	})
	return nil
}
