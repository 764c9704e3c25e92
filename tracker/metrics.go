package tracker

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// trackerMetrics are the tracker's Prometheus metrics, on a registry of its
// own (no global registry): the counters the session writers move, and a
// collector that reads the aggregates at scrape time.
type trackerMetrics struct {
	reg         *prometheus.Registry
	pushes      prometheus.Counter
	pushLatency prometheus.Histogram
}

func newTrackerMetrics(s *Server) *trackerMetrics {
	m := &trackerMetrics{
		reg: prometheus.NewRegistry(),
		pushes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dartsync_tracker_pushes_total",
			Help: "UPDATES messages written to peers.",
		}),
		pushLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dartsync_tracker_push_latency_seconds",
			Help:    "Time to read one UPDATES message's changes from the state and write it to a peer.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
	}
	m.reg.MustRegister(m.pushes, m.pushLatency, &stateCollector{s: s},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// pushed records one UPDATES message written, started at start.
func (m *trackerMetrics) pushed(start time.Time) {
	m.pushes.Inc()
	m.pushLatency.Observe(time.Since(start).Seconds())
}

// stateCollector reports the tracker's state at scrape time.
type stateCollector struct{ s *Server }

var _ prometheus.Collector = (*stateCollector)(nil)

func (c *stateCollector) descs() (peers, members, files, bytes, commits, conflicts, seq, conflictsTotal *prometheus.Desc) {
	return prometheus.NewDesc("dartsync_tracker_connected_peers", "Devices with a live session.", nil, nil),
		prometheus.NewDesc("dartsync_tracker_members", "Member devices.", nil, nil),
		prometheus.NewDesc("dartsync_tracker_files", "Live files (not directories, not deletions) by folder.", []string{"folder"}, nil),
		prometheus.NewDesc("dartsync_tracker_bytes", "Bytes of the live files by folder.", []string{"folder"}, nil),
		prometheus.NewDesc("dartsync_tracker_commits_total", "Reported changes committed, by outcome.", []string{"outcome"}, nil),
		prometheus.NewDesc("dartsync_tracker_conflict_copies", "Live conflict copies.", nil, nil),
		prometheus.NewDesc("dartsync_tracker_sequence", "Highest sequence number committed.", nil, nil),
		prometheus.NewDesc("dartsync_tracker_conflicts_total", "Concurrent edits resolved with a conflict copy since start.", nil, nil)
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	a, b, d, e, f, g, h, i := c.descs()
	for _, x := range []*prometheus.Desc{a, b, d, e, f, g, h, i} {
		ch <- x
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	dPeers, dMembers, dFiles, dBytes, dCommits, dConflicts, dSeq, dConflictsTotal := c.descs()
	t := c.s.Overview().Totals()
	ch <- prometheus.MustNewConstMetric(dPeers, prometheus.GaugeValue, float64(t.Online))
	ch <- prometheus.MustNewConstMetric(dMembers, prometheus.GaugeValue, float64(t.Members))
	ch <- prometheus.MustNewConstMetric(dConflicts, prometheus.GaugeValue, float64(t.Conflicts))
	ch <- prometheus.MustNewConstMetric(dSeq, prometheus.GaugeValue, float64(t.Seq)) // a restored state goes back
	for _, f := range c.s.Overview().Folders() {
		ch <- prometheus.MustNewConstMetric(dFiles, prometheus.GaugeValue, float64(f.Files), f.Name)
		ch <- prometheus.MustNewConstMetric(dBytes, prometheus.GaugeValue, float64(f.Bytes), f.Name)
	}
	a := c.s.store.agg
	ch <- prometheus.MustNewConstMetric(dConflictsTotal, prometheus.CounterValue, float64(a.outcomes[Conflict].Load()))
	for o := Accepted; o <= Outdated; o++ {
		ch <- prometheus.MustNewConstMetric(dCommits, prometheus.CounterValue, float64(a.outcomes[o].Load()), o.String())
	}
}

// MetricsHandler serves the tracker's metrics in the Prometheus exposition
// formats. Metric names start with dartsync_tracker_ (and the Go runtime's
// go_ and process_ from the official collectors).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}
