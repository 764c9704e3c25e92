package peer

import (
	"errors"
	"log/slog"
	"time"

	"github.com/dartsync/dartsync/internal/discovery"
	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/peer/bandwidth"
	"github.com/dartsync/dartsync/peer/transfer"
	"github.com/dartsync/dartsync/peer/versions"
)

// ErrUnsafePath is wrapped by errors about paths that would lead outside the
// folder (a symlink or non-directory in a parent component).
var ErrUnsafePath = errors.New("unsafe path")

// Defaults for Config.
const (
	DefaultDebounce   = time.Second
	DefaultRescan     = time.Hour
	DefaultParallel   = 4
	DefaultRetry      = 5 * time.Second
	DefaultStatsEvery = time.Second
	DefaultFolderPoll = 2 * time.Second
	// DefaultKeepVersions is how long a replaced or deleted file is kept.
	DefaultKeepVersions = versions.DefaultMaxAge
)

// Config configures a Daemon.
type Config struct {
	// Folders are the folders to sync (see folders.go for the rules).
	// Empty: the single folder Root, with StateDir, Folder and StatsFile.
	Folders []FolderConfig

	Root string // the folder (absolute); when Folders is empty
	// StateDir is the single folder's index and chunk store (absolute) when
	// Folders is empty; with Folders, the device's state directory, where
	// the local API listens (default: the first folder's StateDir).
	StateDir string
	Identity *identity.Identity // this device

	// Tracker to join. When Addr is empty the remembered membership is
	// used, or (with LANDiscovery) the address found on the LAN.
	TrackerAddr string
	TrackerID   identity.DeviceID // pinned tracker identity (from the token)
	Secret      []byte            // join secret; nil once a member
	Folder      string            // tracker folder name; "" = default; when Folders is empty
	DeviceName  string            // this device's name on the tracker's dashboard; "" = the host name
	// LANDiscovery looks for the tracker on the local network
	// (internal/discovery, discover.go) when no address is known or the
	// known one stops answering. Off in the zero Config (tests); dartsync
	// peer turns it on unless --no-discovery.
	LANDiscovery bool
	// DiscoveryPort is LAN discovery's UDP port; 0 = discovery.DefaultPort.
	DiscoveryPort int
	// DiscoveryTargets is where queries go; nil = each interface's subnet
	// broadcast address (tests on loopback give a unicast address).
	DiscoveryTargets func() []discovery.Target

	ListenAddr string // address the piece server listens on, UDP and TCP on the same port
	// Transport is which transports the peer listens on and dials (the
	// tracker and other peers): auto ("": QUIC, TCP when QUIC gets no
	// answer), quic or tcp (transport.Dialer).
	Transport transport.Mode
	// Bandwidth limits the piece bytes sent and received (peer/bandwidth,
	// limits.go); zero: unlimited. Changeable while the daemon runs
	// (Daemon.SetLimits, the local API's /v1/limits).
	Bandwidth bandwidth.Limits

	Debounce time.Duration // watcher quiet time
	// Settle is the quiet time of a file the OS says is complete (closed
	// after writing, or renamed into the folder; Linux): it is reported
	// without waiting for Debounce (peer/watch). 0: watch.DefaultSettle;
	// negative: every path waits for Debounce.
	Settle   time.Duration
	Rescan   time.Duration // periodic full rescan; negative disables
	Parallel int           // files downloaded at once
	// SmallFilesGC is the garbage collector's target (GOGC percent) while
	// a pull applies many small files (gc_boost.go); 0 leaves it alone.
	SmallFilesGC int
	Retry        time.Duration // retry of wants that had no usable source
	StatsFile    string        // JSON stats written here periodically and on exit; "" = none; when Folders is empty
	StatsEvery   time.Duration
	// FolderPoll is how often the folder marker is checked (see doc.go,
	// "Paused"): how soon an unmount is noticed without an event, and a
	// paused folder resumes once it is back.
	FolderPoll time.Duration
	// Fetch tunes the piece fetcher (connections per source, request
	// window); zero fields take transfer's defaults.
	Fetch transfer.FetchOptions
	// PartialMaxAge: a partial download in which no piece became durable
	// for this long is removed, wanted or not (it starts over when
	// resumed); 0 means DefaultPartialMaxAge, negative never. Superseded
	// partials go whatever their age (gc.go).
	PartialMaxAge time.Duration

	// KeepVersions is how long a file replaced or deleted by a remote
	// change is kept in DIR/.dartsync/versions (peer/versions); 0 =
	// DefaultKeepVersions, negative = nothing is kept (and nothing pruned).
	KeepVersions time.Duration
	// KeepVersionsSize caps the bytes kept (oldest pruned first); 0 =
	// KeepVersionsPercent of the folder's file system.
	KeepVersionsSize int64
	// KeepVersionsPercent is the cap in percent of the folder's file
	// system when KeepVersionsSize is 0; 0 = 10.
	KeepVersionsPercent float64

	// NoDefaultIgnores leaves out the built-in ignore patterns (editor
	// and OS temporary files, peer/ignore.Defaults); the folder's
	// .dartsyncignore applies either way (ignore.go).
	NoDefaultIgnores bool

	Log *slog.Logger

	// Version is the running dartsync version, for the start line and
	// dartsync_build_info; "" when not known.
	Version string
	// MetricsAddr: when set, Run serves the Prometheus metrics at /metrics
	// over HTTP on this TCP address (see MetricsHandler).
	MetricsAddr string

	// Debug holds crash-test hooks; the zero value (no hooks) is what a
	// production peer runs with.
	Debug DebugHooks
}

// DebugHooks are hooks for crash tests (set by dartsync peer's hidden
// debug flags, used by the end-to-end suite). Every hook may be nil.
type DebugHooks struct {
	// AfterRename is called after applied files are renamed into place and
	// before the index records them, so a test can kill the peer in that
	// window (recover.go).
	AfterRename func()
	// NoSwarm: downloads take only the owners as sources, never partial
	// holders (swarm.go), to measure what swarming saves.
	NoSwarm bool
}

func (c *Config) defaults() {
	if c.Debounce <= 0 {
		c.Debounce = DefaultDebounce
	}
	if c.Rescan == 0 {
		c.Rescan = DefaultRescan
	}
	if c.Parallel <= 0 {
		c.Parallel = DefaultParallel
	}
	if c.Retry <= 0 {
		c.Retry = DefaultRetry
	}
	if c.StatsEvery <= 0 {
		c.StatsEvery = DefaultStatsEvery
	}
	if c.FolderPoll <= 0 {
		c.FolderPoll = DefaultFolderPoll
	}
	if c.PartialMaxAge == 0 {
		c.PartialMaxAge = DefaultPartialMaxAge
	}
	if c.KeepVersions == 0 {
		c.KeepVersions = DefaultKeepVersions
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}
