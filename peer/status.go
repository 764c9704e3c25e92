package peer

import (
	"sort"
	"strings"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/peer/transfer"
)

// Status returns a snapshot of the daemon (localapi.Status): each folder's
// state, counts and scan progress, the transfers running, the peers, the
// conflict copies and the recent errors. It is safe to call from any
// goroutine at any time, and cheap: the folder counts are cached
// (censusMaxAge).
func (d *Daemon) Status() localapi.Status {
	now := time.Now()
	st := localapi.Status{
		Version: d.cfg.Version, Device: d.self.String(), Short: d.self.Short(), StateDir: d.cfg.StateDir,
		Started: d.api.started,
		Tracker: localapi.Tracker{Addr: d.tracker.current(), Device: d.trackerID.String()},
		Errors:  d.api.errs.list(),
	}
	if l := d.Limits(); l.MaxSend != 0 || l.MaxRecv != 0 {
		st.Limits = &l
	}
	if l := d.api.listen.Load(); l != nil {
		st.Listen = *l
	}
	peers := map[string]*localapi.Peer{}
	for _, f := range d.folderList() {
		fs := f.status(now)
		st.Folders = append(st.Folders, fs.folder)
		st.Transfers = append(st.Transfers, fs.transfers...)
		st.Conflicts = append(st.Conflicts, fs.conflicts...)
		if fs.trackerUp || !st.Tracker.Connected && fs.trackerAt.After(st.Tracker.Since) {
			st.Tracker.Connected, st.Tracker.Since = fs.trackerUp, fs.trackerAt.UTC()
		}
		for _, p := range fs.peers {
			q, ok := peers[p.Device]
			if !ok {
				q = &localapi.Peer{Device: p.Device, Short: p.Short, Addr: p.Addr, LastSeen: p.LastSeen}
				peers[p.Device] = q
			}
			q.Folders = append(q.Folders, fs.folder.Name)
			if p.Online {
				q.Online, q.Addr = true, p.Addr
			}
			if p.LastSeen.After(q.LastSeen) {
				q.LastSeen = p.LastSeen
			}
		}
	}
	if dl := d.api.tracker.Load(); dl != nil && st.Tracker.Connected {
		st.Tracker.Transport = dl.Network()
	}
	f, s := d.obs.fetcher.Load(), d.obs.server.Load()
	for _, p := range peers {
		p.Transport = peerTransport(p.Device, f, s)
		st.Peers = append(st.Peers, *p)
	}
	sort.Slice(st.Peers, func(i, j int) bool {
		a, b := st.Peers[i], st.Peers[j]
		return a.Online && !b.Online || a.Online == b.Online && a.Device < b.Device
	})
	sort.Slice(st.Transfers, func(i, j int) bool {
		a, b := st.Transfers[i], st.Transfers[j]
		return a.Folder < b.Folder || a.Folder == b.Folder && a.Path < b.Path
	})
	return st
}

// folderStatus is one folder's part of a Status.
type folderStatus struct {
	folder    localapi.Folder
	transfers []localapi.Transfer
	conflicts []localapi.Conflict
	peers     []localapi.Peer
	trackerUp bool
	trackerAt time.Time
}

// status returns the folder's part of a Status at now.
func (f *folder) status(now time.Time) folderStatus {
	l := &f.state.live
	name := f.guard.name
	c := l.countNow(f.idx, f.ignore, f.censusKey(), name, now)
	out := folderStatus{
		folder: localapi.Folder{
			Name: name, Path: f.root, State: localapi.StateIdle,
			Files: c.files, FilesInSync: c.filesInSync, Bytes: c.bytes, BytesInSync: c.inSync,
			Wants: c.wants, Seq: f.idx.Seq(),
			LastScan: unixTime(l.lastScan.Load()), LastChange: unixTime(l.lastChange.Load()),
		},
		transfers: l.transfersNow(name, now),
		conflicts: c.conflicts,
	}
	l.mu.Lock()
	failed := l.failed
	out.trackerUp, out.trackerAt = l.trackerUp, l.trackerAt
	for id, s := range l.seen {
		p := localapi.Peer{Device: id.String(), Short: id.Short(), Addr: s.addr, Online: s.online, LastSeen: s.lastSeen.UTC()}
		if s.online {
			p.LastSeen = now.UTC()
		}
		out.peers = append(out.peers, p)
	}
	l.mu.Unlock()
	if failed == "" && c.err != nil {
		failed = "index: " + c.err.Error()
	}
	fo := &out.folder
	faulted := f.state.faults.reason()
	paused, reason := f.guard.get()
	switch {
	case paused:
		fo.State, fo.Reason = localapi.StatePaused, reason
	case l.scanning.Load():
		fo.State, fo.ScanFiles, fo.ScanBytes = localapi.StateScanning, l.scanFiles.Load(), l.scanBytes.Load()
	case faulted != "":
		// Some wants cannot be written (disk full, permission): an error
		// while it lasts, whatever else is synced (write_faults.go).
		fo.State, fo.Reason = localapi.StateError, faulted
	case l.syncing.Load() || len(out.transfers) > 0:
		fo.State = localapi.StateSyncing
	case failed != "":
		fo.State, fo.Reason = localapi.StateError, failed
	}
	return out
}

// unixTime is the UTC time of Unix ns n; zero for 0.
func unixTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// peerTransport names the transports of the connections with device (as
// the fetcher dialled them and as the piece server accepted them): "quic",
// "tcp", "quic+tcp", or "" when there are none.
func peerTransport(device string, f *transfer.Fetcher, s *transfer.Server) string {
	id, err := identity.ParseDeviceID(device)
	if err != nil {
		return ""
	}
	seen := map[string]bool{}
	if f != nil {
		for _, n := range f.Networks(id) {
			seen[n] = true
		}
	}
	if s != nil {
		for _, n := range s.Networks(id) {
			seen[n] = true
		}
	}
	var ns []string
	for _, n := range []string{"quic", "tcp"} {
		if seen[n] {
			ns = append(ns, n)
		}
	}
	return strings.Join(ns, "+")
}
