package tracker

import (
	"bytes"
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker/trackerpb"
)

// What the tracker shows of itself (its dashboard, tracker/dashboard). Every
// method here reads the aggregates (aggregate.go), the device book
// (devices.go) and the live sessions: none reads the files table, so each
// costs the same with 100 000 files as with ten.

// DeviceStatus is one member device as the dashboard shows it.
type DeviceStatus struct {
	ID         identity.DeviceID
	Name       string    // what the device calls itself ("" if it never said)
	Version    string    // the dartsync version it last ran
	Addr       string    // where it was last seen (piece server, else its connection)
	Online     bool      // it has a live session now
	Folders    []string  // folders it is connected for now
	LastSeen   time.Time // now if online; zero if never seen since it is remembered
	FilesOwned int       // live files of which it holds the current version
}

// FolderStatus is one folder's totals.
type FolderStatus struct {
	Name       string
	Files      int       // live files (not directories, not deletions)
	Bytes      uint64    // their sizes
	LastChange time.Time // last committed change (at start: the newest modification time)
	Online     int       // devices connected for it now
}

// ChangeRecord is one recent change of content.
type ChangeRecord struct {
	Seq    uint64
	Folder string
	Path   string
	What   string // "added", "changed", "deleted" or "conflict copy"
	Device identity.DeviceID
	Size   uint64
	Time   time.Time // when the tracker committed it (at start: the modification time)
	author uint32    // member number; Device is filled from it
}

// ConflictCopy is one live conflict copy (ConflictName).
type ConflictCopy struct {
	Folder  string
	Path    string
	Size    uint64
	ModTime time.Time
	Device  identity.DeviceID // the device whose version it is
	Owners  int               // devices that hold it
	author  uint32
}

// Totals are the tracker's headline numbers.
type Totals struct {
	Files, Members, Online, Conflicts int
	Bytes                             uint64
	Seq                               uint64
	Epoch                             Epoch
}

// Overview is the tracker's read-only view for its dashboard and metrics.
type Overview struct{ s *Server }

// Overview returns the tracker's overview (cheap: a view, not a copy).
func (s *Server) Overview() Overview { return Overview{s} }

// ID returns the tracker's device ID.
func (o Overview) ID() identity.DeviceID { return o.s.ID() }

// MetricsHandler serves the tracker's Prometheus metrics (Server.MetricsHandler).
func (o Overview) MetricsHandler() http.Handler { return o.s.MetricsHandler() }

// Devices returns every member, online ones first, then by name and ID.
func (o Overview) Devices() []DeviceStatus {
	s := o.s
	online := map[identity.DeviceID][]string{}
	s.mu.Lock()
	for k := range s.peers {
		online[k.dev] = append(online[k.dev], k.folder)
	}
	s.mu.Unlock()
	s.store.mu.RLock()
	members := make([]identity.DeviceID, 0, len(s.store.members))
	nums := make([]uint32, 0, len(s.store.members))
	for d, n := range s.store.members {
		members, nums = append(members, d), append(nums, n)
	}
	s.store.mu.RUnlock()
	s.store.agg.mu.RLock()
	owned := make([]int, len(nums))
	for i, n := range nums {
		owned[i] = s.store.agg.owned[n]
	}
	s.store.agg.mu.RUnlock()
	now := time.Now()
	out := make([]DeviceStatus, 0, len(members))
	for i, d := range members {
		di, _ := s.devices.get(d)
		fs := online[d]
		slices.Sort(fs)
		ds := DeviceStatus{ID: d, Name: di.Name, Version: di.Version, Addr: di.Addr, Online: len(fs) > 0,
			Folders: fs, LastSeen: di.LastSeen, FilesOwned: owned[i]}
		if ds.Online {
			ds.LastSeen = now
		}
		out = append(out, ds)
	}
	slices.SortFunc(out, func(a, b DeviceStatus) int {
		if a.Online != b.Online {
			if a.Online {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Name, b.Name), bytes.Compare(a.ID[:], b.ID[:]))
	})
	return out
}

// Folders returns every folder the tracker knows, by name.
func (o Overview) Folders() []FolderStatus {
	s := o.s
	online := map[string]int{}
	s.mu.Lock()
	for k := range s.peers {
		online[k.folder]++
	}
	s.mu.Unlock()
	a := s.store.agg
	a.mu.RLock()
	out := make([]FolderStatus, 0, len(a.folders)+len(online))
	for name, ft := range a.folders {
		out = append(out, FolderStatus{Name: name, Files: ft.files, Bytes: ft.bytes, LastChange: ft.lastChange, Online: online[name]})
		delete(online, name)
	}
	a.mu.RUnlock()
	for name, n := range online { // connected, nothing reported yet
		out = append(out, FolderStatus{Name: name, Online: n})
	}
	slices.SortFunc(out, func(a, b FolderStatus) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// RecentChanges returns the recent changes of content, newest first.
func (o Overview) RecentChanges() []ChangeRecord {
	s := o.s
	a := s.store.agg
	a.mu.RLock()
	out := make([]ChangeRecord, 0, len(a.ring))
	for i := range a.ring {
		out = append(out, a.ring[(a.next+len(a.ring)-1-i)%len(a.ring)])
	}
	a.mu.RUnlock()
	for i := range out {
		out[i].Device = s.store.device(out[i].author)
	}
	return out
}

// ConflictCopies returns at most limit live conflict copies, by folder and
// path, and how many there are.
func (o Overview) ConflictCopies(limit int) ([]ConflictCopy, int) {
	s := o.s
	a := s.store.agg
	a.mu.RLock()
	out := make([]ConflictCopy, 0, len(a.conflicts))
	for _, c := range a.conflicts {
		out = append(out, c)
	}
	a.mu.RUnlock()
	slices.SortFunc(out, func(a, b ConflictCopy) int {
		return cmp.Or(cmp.Compare(a.Folder, b.Folder), cmp.Compare(a.Path, b.Path))
	})
	total := len(out)
	out = out[:min(total, max(limit, 0))]
	for i := range out {
		out[i].Device = s.store.device(out[i].author)
	}
	return out, total
}

// Totals returns the headline numbers.
func (o Overview) Totals() Totals {
	s := o.s
	s.mu.Lock()
	online := map[identity.DeviceID]bool{}
	for k := range s.peers {
		online[k.dev] = true
	}
	s.mu.Unlock()
	t := Totals{Online: len(online), Seq: s.store.current(), Epoch: s.store.currentEpoch()}
	s.store.mu.RLock()
	t.Members = len(s.store.members)
	s.store.mu.RUnlock()
	a := s.store.agg
	a.mu.RLock()
	for _, ft := range a.folders {
		t.Files += ft.files
		t.Bytes += ft.bytes
	}
	t.Conflicts = len(a.conflicts)
	a.mu.RUnlock()
	return t
}

// noteDevice remembers what a registering device said about itself.
func (b *deviceBook) noteDevice(ss *session, reg *trackerpb.Register) {
	addr := ss.addr
	if addr == "" {
		addr = ss.conn.RemoteAddr().String()
	}
	b.seen(ss.dev, cleanLabel(reg.DeviceName, maxDeviceName), cleanLabel(reg.Version, maxDeviceVersion), addr, time.Now())
}

// deviceLeft records when a device's session ended.
func (b *deviceBook) deviceLeft(ss *session) {
	b.seen(ss.dev, "", "", "", time.Now())
}
