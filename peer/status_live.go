package peer

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/peer/scan"
	"github.com/dartsync/dartsync/tracker"
)

// folderLive is what one folder is doing now, as the parts tell it through
// small hooks (scanning, pulling, each fetch, each applied file, the live
// peer list), for Daemon.Status and the event stream. Its zero value is
// ready (unit tests of single parts never attach a bus). The hooks are
// lock-cheap: atomics, or one short mutex section over maps, never around
// I/O. It lives in the folder's syncState (field live) so that every part
// reaches it.
type folderLive struct {
	bus  atomic.Pointer[localapi.Bus]
	name atomic.Pointer[string] // the folder's name in events

	scanning   atomic.Bool
	scanFiles  atomic.Int64
	scanBytes  atomic.Int64
	syncing    atomic.Bool
	lastScan   atomic.Int64 // Unix ns of the last completed scan
	lastChange atomic.Int64 // Unix ns of the last applied, deleted or reported change

	mu        sync.Mutex
	failed    string // the last scan's or pull's error; "" after a success
	transfers map[*liveTransfer]struct{}
	seen      map[identity.DeviceID]*peerSeen
	trackerUp bool
	trackerAt time.Time // when trackerUp last changed
	census    census    // cached counts (status_census.go)
}

// peerSeen is a peer of the folder as the tracker's live lists showed it.
type peerSeen struct {
	addr     string
	online   bool
	lastSeen time.Time // when it went offline (while online: now)
}

// attach makes the folder publish its events on bus under name.
func (l *folderLive) attach(bus *localapi.Bus, name string) {
	l.name.Store(&name)
	l.bus.Store(bus)
}

// publish offers e to the event stream (nothing before attach).
func (l *folderLive) publish(e localapi.Event) {
	b := l.bus.Load()
	if b == nil {
		return
	}
	if n := l.name.Load(); n != nil {
		e.Folder = *n
	}
	b.Publish(e)
}

// event publishes an event of type typ about path; applied, deleted and
// local changes also move the folder's last change time.
func (l *folderLive) event(typ, path string) {
	switch typ {
	case localapi.EventApplied, localapi.EventDeleted, localapi.EventLocalChange:
		l.lastChange.Store(time.Now().UnixNano())
	}
	l.publish(localapi.Event{Type: typ, Path: path})
}

// scanStarted and scanEnded bracket a scan; scanProgress is the scanner's
// Progress callback.
func (l *folderLive) scanStarted() {
	l.scanFiles.Store(0)
	l.scanBytes.Store(0)
	l.scanning.Store(true)
	l.publish(localapi.Event{Type: localapi.EventFolderState, State: localapi.StateScanning})
}

func (l *folderLive) scanProgress(p scan.Progress) {
	l.scanFiles.Store(p.Files)
	l.scanBytes.Store(p.Bytes)
}

func (l *folderLive) scanEnded(err error) {
	l.scanning.Store(false)
	if err == nil {
		l.lastScan.Store(time.Now().UnixNano())
	}
	l.setFailed("scan", err)
	l.maybeIdle(err)
}

// pullStarted and pullEnded bracket a pull round that has wants.
func (l *folderLive) pullStarted() {
	l.syncing.Store(true)
	l.publish(localapi.Event{Type: localapi.EventFolderState, State: localapi.StateSyncing})
}

func (l *folderLive) pullEnded(err error) {
	l.syncing.Store(false)
	l.setFailed("pull", err)
	l.maybeIdle(err)
}

// maybeIdle publishes the idle state after a scan or pull that succeeded
// when neither runs any more.
func (l *folderLive) maybeIdle(err error) {
	if err == nil && !l.scanning.Load() && !l.syncing.Load() {
		l.publish(localapi.Event{Type: localapi.EventFolderState, State: localapi.StateIdle})
	}
}

// setFailed records the outcome of a scan or pull (err nil: success). A
// pause or a stop (the context) is neither a success nor a failure.
func (l *folderLive) setFailed(what string, err error) {
	if errors.Is(err, errFolderPaused) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	msg := ""
	if err != nil {
		msg = what + ": " + err.Error()
	}
	l.mu.Lock()
	changed := l.failed != msg
	l.failed = msg
	l.mu.Unlock()
	if changed && msg != "" {
		l.publish(localapi.Event{Type: localapi.EventFolderState, State: localapi.StateError, Text: msg})
	}
}

// peersNow records the tracker's live peer list (called with syncState.mu
// held: it only takes l.mu, never the reverse) and the tracker connection
// as up. Peers that left keep their last seen time.
func (l *folderLive) peersNow(peers []tracker.PeerInfo) {
	now := time.Now()
	var evs []localapi.Event
	l.mu.Lock()
	if l.seen == nil {
		l.seen = map[identity.DeviceID]*peerSeen{}
	}
	live := make(map[identity.DeviceID]bool, len(peers))
	for _, p := range peers {
		live[p.ID] = true
		s, ok := l.seen[p.ID]
		if !ok {
			s = &peerSeen{}
			l.seen[p.ID] = s
		}
		if !s.online {
			evs = append(evs, localapi.Event{Type: localapi.EventPeer, Device: p.ID.String(), State: "online", Text: p.Addr})
		}
		s.addr, s.online, s.lastSeen = p.Addr, true, now
	}
	for id, s := range l.seen {
		if s.online && !live[id] {
			s.online, s.lastSeen = false, now
			evs = append(evs, localapi.Event{Type: localapi.EventPeer, Device: id.String(), State: "offline", Text: s.addr})
		}
	}
	l.mu.Unlock()
	for _, e := range evs {
		l.publish(e)
	}
}

// setTracker records that the tracker connection came up or went down.
func (l *folderLive) setTracker(up bool) {
	l.mu.Lock()
	changed := l.trackerUp != up
	if changed {
		l.trackerUp, l.trackerAt = up, time.Now()
	}
	l.mu.Unlock()
	if changed {
		state := "connected"
		if !up {
			state = "disconnected"
		}
		l.publish(localapi.Event{Type: localapi.EventTracker, State: state})
	}
}
