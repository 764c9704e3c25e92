package localapi

import "time"

// APIVersion is the path prefix of every endpoint of this API version.
const APIVersion = "v1"

// Folder states (Folder.State).
const (
	StateIdle     = "idle"     // in sync as far as this device knows
	StateScanning = "scanning" // a scan of the folder is running
	StateSyncing  = "syncing"  // wants are being fetched or applied
	StatePaused   = "paused"   // nothing is scanned or applied; Folder.Reason says why
	StateError    = "error"    // the last scan or pull failed, or files cannot be written (disk full, permission); Folder.Reason says how
)

// Status is GET /v1/status: everything `dartsync status` shows, in one
// object (`dartsync status --json` prints exactly this).
type Status struct {
	Version  string    `json:"version"`   // dartsync version of the running peer
	Device   string    `json:"device"`    // this device's full ID
	Short    string    `json:"short"`     // its short form, as shown to users
	StateDir string    `json:"state_dir"` // the device's state directory
	Listen   string    `json:"listen"`    // the piece server's address
	Started  time.Time `json:"started"`
	Tracker  Tracker   `json:"tracker"`

	Folders   []Folder   `json:"folders"`
	Peers     []Peer     `json:"peers"`     // every peer seen since start; Online says which are live
	Transfers []Transfer `json:"transfers"` // files being fetched now
	Conflicts []Conflict `json:"conflicts"` // unresolved conflict copies
	Errors    []Error    `json:"errors"`    // the last errors, newest last (bounded)

	// Limits are the bandwidth limits (as /v1/limits), when one is set.
	Limits *Limits `json:"limits,omitempty"`
}

// Tracker is the connection to the tracker.
type Tracker struct {
	Addr      string    `json:"addr"`
	Device    string    `json:"device"`
	Connected bool      `json:"connected"`
	Transport string    `json:"transport,omitempty"` // "quic" or "tcp" while connected
	Since     time.Time `json:"since,omitempty"`     // connected (or disconnected) since
}

// Folder is GET /v1/folders (a list) and one element of Status.Folders.
type Folder struct {
	Name   string `json:"name"` // tracker folder name ("" = the tracker's default)
	Path   string `json:"path"` // absolute folder root
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`

	Files       int64     `json:"files"`         // files the tracker lists for this folder (not deleted)
	FilesInSync int64     `json:"files_in_sync"` // of those, the ones this device has at their current version
	Bytes       int64     `json:"bytes"`
	BytesInSync int64     `json:"bytes_in_sync"`
	Wants       int64     `json:"wants"` // versions waiting to be fetched or applied
	Seq         uint64    `json:"seq"`   // last tracker sequence number applied
	LastScan    time.Time `json:"last_scan,omitempty"`
	// ScanFiles and ScanBytes: what the scan running now has read so far
	// (0 when State is not scanning); a scan's total is not known in advance.
	ScanFiles  int64     `json:"scan_files,omitempty"`
	ScanBytes  int64     `json:"scan_bytes,omitempty"`
	LastChange time.Time `json:"last_change,omitempty"`
}

// Peer is another device of this device's folders.
type Peer struct {
	Device string `json:"device"`
	Short  string `json:"short"`
	Addr   string `json:"addr"` // IP:port of its piece server, as the tracker reported it
	Online bool   `json:"online"`
	// Transport is what carries the connections with it now ("quic",
	// "tcp", or "quic+tcp" when there are both); "" when there are none.
	Transport string    `json:"transport,omitempty"`
	LastSeen  time.Time `json:"last_seen"` // when it was last known to be online
	Folders   []string  `json:"folders,omitempty"`
}

// Transfer is GET /v1/transfers (a list): one file being fetched.
type Transfer struct {
	Folder  string    `json:"folder"`
	Path    string    `json:"path"`
	Size    int64     `json:"size"` // bytes of the version being built
	Done    int64     `json:"done"` // bytes of it in place (local, found, fetched)
	Rate    float64   `json:"rate"` // bytes/s received for it, recent average
	ETA     float64   `json:"eta_seconds,omitempty"`
	Sources int       `json:"sources"` // peers it is being fetched from
	Started time.Time `json:"started"`
}

// Conflict is GET /v1/conflicts (a list): a conflict copy present in a folder.
type Conflict struct {
	Folder   string    `json:"folder"`
	Path     string    `json:"path"`             // the conflict copy
	Original string    `json:"original"`         // the path it is a copy of
	Device   string    `json:"device,omitempty"` // short ID of the device whose edit lost
	Time     time.Time `json:"time,omitempty"`
}

// Error is one recent error.
type Error struct {
	Time    time.Time `json:"time"`
	Folder  string    `json:"folder,omitempty"`
	Path    string    `json:"path,omitempty"`
	Message string    `json:"message"`
}

// Event types (Event.Type).
const (
	EventFolderState = "folder-state" // a folder's State changed
	EventLocalChange = "local-change" // a local change was reported
	EventApplied     = "applied"      // a remote version was written
	EventDeleted     = "deleted"      // a path was deleted for a remote tombstone
	EventConflict    = "conflict"     // a conflict copy appeared
	EventPeer        = "peer"         // a peer came online or went offline
	EventTracker     = "tracker"      // the tracker connection came up or went down
	EventTransfer    = "transfer"     // a transfer started or finished
	EventError       = "error"
)

// Event is one line of GET /v1/events (a stream of JSON objects, one per
// line). Seq increases by one per event; a reader that falls behind misses
// events (the stream then carries an event with Type "dropped" and the
// number lost in Count) rather than slowing the daemon down.
type Event struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Type   string    `json:"type"`
	Folder string    `json:"folder,omitempty"`
	Path   string    `json:"path,omitempty"`
	Device string    `json:"device,omitempty"`
	State  string    `json:"state,omitempty"`
	Text   string    `json:"text,omitempty"`
	Count  int64     `json:"count,omitempty"`
}
