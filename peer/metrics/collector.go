package metrics

import "github.com/prometheus/client_golang/prometheus"

// collector reads the daemon's counters at each scrape (see doc.go).
type collector struct {
	src Source

	pieces, bytes                       *prometheus.Desc // by folder and kind
	network, signature, delta, deltaErr *prometheus.Desc
	upload                              *prometheus.Desc
	applied, deleted, local, conflicts  *prometheus.Desc
	scans, reannounces                  *prometheus.Desc
	pending, peers, paused              *prometheus.Desc
	fetchFiles, fetchRequests, conns    *prometheus.Desc
	bwLimit, bwLimited                  *prometheus.Desc // by direction
}

func newCollector(src Source) *collector {
	folder := []string{"folder"}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(folder[:len(folder):len(folder)], labels...), nil)
	}
	device := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &collector{
		src:       src,
		pieces:    d("dartsync_received_pieces_total", "Pieces of fetched versions put in place, by where they came from (kind: local, found, delta, whole).", "kind"),
		bytes:     d("dartsync_received_bytes_total", "Piece bytes of fetched versions put in place, by where they came from (kind: local, found, delta, whole).", "kind"),
		network:   d("dartsync_network_received_bytes_total", "Bytes received over the network for fetched versions: whole pieces and deltas."),
		signature: d("dartsync_delta_signature_bytes_total", "Bytes of delta signatures sent to other peers."),
		delta:     d("dartsync_delta_received_bytes_total", "Bytes of deltas received (also counted in dartsync_network_received_bytes_total)."),
		deltaErr:  d("dartsync_delta_failures_total", "Piece deltas that failed; the piece was then fetched whole."),
		upload:    d("dartsync_upload_read_bytes_total", "Piece bytes read from the folder to serve other peers."),
		applied:   d("dartsync_files_applied_total", "Files written from remote versions."),
		deleted:   d("dartsync_files_deleted_total", "Paths deleted for remote deletions."),
		local:     d("dartsync_local_changes_total", "Local changes reported to the tracker."),
		conflicts: d("dartsync_conflicts_total", "Local edits that met a concurrent remote one (a conflict copy was kept)."),
		scans:     d("dartsync_scans_total", "Scans of the folder completed."),
		reannounces: d("dartsync_reannounces_total",
			"Re-announces of the folder's files to a tracker in a new epoch."),
		pending: d("dartsync_pending_wants", "Remote versions not yet applied after the last pull round (a queue length)."),
		peers:   d("dartsync_peers_online", "Live peers of the folder, as the tracker reports them."),
		paused:  d("dartsync_folder_paused", "1 while the folder is paused (missing or unmarked), else 0."),
		fetchFiles: device("dartsync_fetch_files",
			"Files being fetched from peers now (a queue length)."),
		fetchRequests: device("dartsync_fetch_requests_in_flight",
			"Piece requests sent to peers and not yet answered."),
		conns: device("dartsync_connected_peers",
			"Devices connected now, by direction: out (this peer fetches from them), in (they fetch from this peer).", "direction"),
		bwLimit: device("dartsync_bandwidth_limit_bytes_per_second",
			"The bandwidth limit of piece data now, by direction: send, recv (0: unlimited).", "direction"),
		bwLimited: device("dartsync_bandwidth_limited_bytes_total",
			"Piece bytes that went through the bandwidth limit, by direction: send, recv.", "direction"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.pieces, c.bytes, c.network, c.signature, c.delta, c.deltaErr, c.upload,
		c.applied, c.deleted, c.local, c.conflicts, c.scans, c.reannounces,
		c.pending, c.peers, c.paused, c.fetchFiles, c.fetchRequests, c.conns,
		c.bwLimit, c.bwLimited,
	} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	for _, f := range c.src.MetricFolders() {
		n := f.Name
		for _, k := range []struct {
			kind string
			m    Moved
		}{{KindLocal, f.Local}, {KindFound, f.Found}, {KindDelta, f.Delta}, {KindWhole, f.Whole}} {
			counter(c.pieces, k.m.Pieces, n, k.kind)
			counter(c.bytes, k.m.Bytes, n, k.kind)
		}
		counter(c.network, f.NetworkBytes, n)
		counter(c.signature, f.SignatureBytes, n)
		counter(c.delta, f.DeltaBytes, n)
		counter(c.deltaErr, f.DeltaFailed, n)
		counter(c.upload, f.UploadBytes, n)
		counter(c.applied, f.FilesApplied, n)
		counter(c.deleted, f.FilesDeleted, n)
		counter(c.local, f.LocalChanges, n)
		counter(c.conflicts, f.Conflicts, n)
		counter(c.scans, f.Scans, n)
		counter(c.reannounces, f.Reannounces, n)
		gauge(c.pending, f.PendingWants, n)
		gauge(c.peers, int64(f.PeersOnline), n)
		paused := int64(0)
		if f.Paused {
			paused = 1
		}
		gauge(c.paused, paused, n)
	}
	dev := c.src.MetricDevice()
	gauge(c.fetchFiles, int64(dev.FetchFiles))
	gauge(c.fetchRequests, int64(dev.FetchRequests))
	gauge(c.conns, int64(dev.SourcesConnected), "out")
	gauge(c.conns, int64(dev.RemotesConnected), "in")
	gauge(c.bwLimit, dev.SendLimit, "send")
	gauge(c.bwLimit, dev.RecvLimit, "recv")
	counter(c.bwLimited, dev.SentLimited, "send")
	counter(c.bwLimited, dev.ReceivedLimited, "recv")
}
