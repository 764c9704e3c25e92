package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/dartsync/dartsync/internal/folderpath"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer"
	"github.com/dartsync/dartsync/tracker"
)

// peerGCPercent is the peer's GOGC unless GOGC is set. Piece buffers live
// outside the Go heap (peer/transfer), so the heap holds ~3 MB of live data
// and the runtime's default of 100 would let it swing with the garbage of a
// long transfer: benchmarks/e2e_perf.sh-style runs, receiving peer VmHWM at
// 100: 64 MiB 28.5-29.7 MiB, 1 GiB 31.8-32.2 MiB; at 25: 27.3 and 28.4-28.5
// MiB, for ~210 short GC cycles per GiB received (~2% of its CPU); 10 is no
// lower than 25 (the runtime's minimum heap decides there).
const peerGCPercent = 25

// peerSmallFilesGC is the peer's GOGC while it pulls many small files
// (peer.Config.SmallFilesGC), unless GOGC is set: at 25, 10 000 files of
// 4 KiB cost each receiver ~1.2 CPU-s more (benchmarks/e2e_speed.sh small,
// B 4.2-4.5 against 3.1 CPU-s at 400).
const peerSmallFilesGC = 400

// peerMemoryLimit is the Go runtime's soft memory limit for the peer unless
// GOMEMLIMIT is set. A scan or a pull of a large folder allocates fast (the
// index pages, the tracker's updates: 1 GB in 8 s at 200 000 files) while
// little stays live (17 MiB in use), and the collector's pace (GOGC, 400
// while many small files arrive) let the process grow to 47 MiB anonymous
// (68 MiB VmHWM with the mapped binary) before it collected. Near the limit
// the collector runs sooner and returns freed memory to the system.
const peerMemoryLimit = 36 << 20

// exitWrongToken is the exit status when the tracker refuses the join token.
const exitWrongToken = 3

// rejoinHint tells a user whose tracker has another identity what to do.
const rejoinHint = "A tracker whose state directory was lost or reset has a new identity and a new join token " +
	"(it writes it to join.token in its state directory): join it again with " +
	"--tracker HOST:PORT --token-file FILE (a copy of that file; on the tracker's local network --tracker may be left out). Nothing is rolled back: this device keeps its files and re-announces them."

// peerCmd runs the peer daemon on its folders.
type peerCmd struct {
	Config    kong.ConfigFlag `name:"config" type:"path" placeholder:"FILE" help:"Read flags from this JSON file (see contrib/dartsync.json) instead of dartsync/config.json in the user config directory (~/.config on Linux); flags given on the command line win."`
	Dirs      []string        `name:"dir" required:"" sep:"none" placeholder:"[NAME=]PATH" help:"Folder to keep in sync, repeatable: NAME=PATH is folder NAME on the tracker, a bare PATH the tracker's default folder (see docs/FOLDERS.md). Created if missing at the first start; later, a missing or unmarked folder pauses (alone)."`
	Tracker   string          `name:"tracker" placeholder:"HOST:PORT" help:"Tracker address; remembered after the first successful join. Not needed on the tracker's local network: the peer finds the tracker the join token names there (UDP 21010)."`
	Token     string          `name:"token" env:"DARTSYNC_TOKEN" help:"Join token (needed for the first join only). On the command line it is visible to other local users: prefer --token-file or DARTSYNC_TOKEN."`
	TokenFile string          `name:"token-file" type:"path" help:"Read the join token from this file (a copy of the tracker's join.token, or a token from dartsync tracker token)."`
	Listen    string          `name:"listen" default:":7001" help:"Address to serve pieces to other peers on: UDP (QUIC) and TCP, same port."`
	Transport string          `name:"transport" default:"auto" enum:"auto,quic,tcp" help:"auto: listen on UDP and TCP, dial QUIC and fall back to TCP when QUIC gets no answer within a second (remembered per address for 5 minutes); quic or tcp: only that one."`
	State     string          `name:"state" type:"path" help:"State directory (identity; index and chunk store of the default folder, STATE/folders/NAME of folder NAME); default each DIR/.dartsync. Keep it off a removable disk: a peer whose folder is missing then pauses instead of refusing to start."`

	Debounce         time.Duration `name:"debounce" default:"1s" help:"Report a changed file once it has been quiet this long (on Linux a file closed after writing, or renamed into the folder, is reported at once)."`
	Settle           time.Duration `name:"settle" default:"20ms" help:"Report a file the system says is complete (on Linux: closed after writing, or renamed into the folder) once it has been quiet this long instead of --debounce; 0: every file waits for --debounce."`
	Rescan           time.Duration `name:"rescan" default:"1h" help:"Full rescan interval (safety net for missed events); negative disables."`
	KeepVersions     keepDuration  `name:"keep-versions" default:"30d" placeholder:"DURATION" help:"Keep files that remote changes replace or delete this long in DIR/.dartsync/versions (30d, 12h); 0 keeps none."`
	KeepVersionsSize keepSize      `name:"keep-versions-size" default:"10%" placeholder:"SIZE" help:"At most this much is kept, oldest pruned first: 500MB, 2GiB, or a percentage of the folder's file system (5%)."`
	Metrics          string        `name:"metrics" placeholder:"ADDR" help:"Serve Prometheus metrics at http://ADDR/metrics (TCP, e.g. 127.0.0.1:9101); off by default."`
	Name             string        `name:"name" placeholder:"NAME" help:"This device's name on the tracker's dashboard and in its members list; default the host name."`
	NoDefaultIgnores bool          `name:"no-default-ignores" help:"Sync editor and OS temporary files too (*.swp, *~, .DS_Store, *.tmp, ...); DIR/.dartsyncignore still applies."`
	NoDiscovery      bool          `name:"no-discovery" env:"DARTSYNC_NO_DISCOVERY" help:"Do not look for the tracker on the local network: only --tracker or the remembered address is dialled."`

	Limits peerLimits `embed:""`
	Debug  peerDebug  `embed:"" prefix:"debug-" group:"debug"`
}

func (c *peerCmd) Run(ctx context.Context, log *slog.Logger, k *kong.Context) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(peerMemoryLimit)
	}
	smallFilesGC := 0
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(peerGCPercent)
		smallFilesGC = peerSmallFilesGC
	}
	progress, log := progressFor(os.Stderr, log)
	folders, err := c.folders()
	if err != nil {
		return err
	}
	tokenText, tokenFrom, err := c.token()
	if err != nil {
		return err
	}
	if tokenOnArgs(k) {
		log.Warn(tokenOnCommandLine)
	}
	var tok *tracker.Token
	if tokenText != "" {
		t, err := tracker.ParseToken(tokenText)
		if err != nil {
			return withExitCode(2, fmt.Errorf("join token from %s: %w", tokenFrom, err))
		}
		if c.Tracker == "" && c.NoDiscovery {
			return withExitCode(2, errors.New("with --no-discovery a join token needs --tracker HOST:PORT"))
		}
		tok = &t
	}
	// Nothing is created (folder, state, identity) unless the peer can run:
	// a missing index with no token to join is a mistake or a disk that is
	// not mounted.
	if err := checkCanStart(folders, tok != nil); err != nil {
		return err
	}
	id, err := c.identity(folders)
	if err != nil {
		return err
	}

	cfg := peer.Config{
		Folders: folders, Identity: id,
		TrackerAddr: c.Tracker, ListenAddr: c.Listen, Transport: transport.Mode(c.Transport),
		Debounce: c.Debounce, Settle: settleOrOff(c.Settle), Rescan: c.Rescan, SmallFilesGC: smallFilesGC,
		StateDir: c.deviceState(folders),
		Log:      log, Version: version, MetricsAddr: c.Metrics,
		NoDefaultIgnores: c.NoDefaultIgnores,
		DeviceName:       c.Name,
		LANDiscovery:     !c.NoDiscovery,

		KeepVersions:     time.Duration(c.KeepVersions),
		KeepVersionsSize: c.KeepVersionsSize.bytes, KeepVersionsPercent: c.KeepVersionsSize.percent,
	}
	if c.KeepVersions == 0 {
		cfg.KeepVersions = -1 // keep nothing
	}
	c.Limits.apply(&cfg)
	c.Debug.apply(&cfg, log)
	if tok != nil {
		cfg.TrackerID = tok.Tracker
		cfg.Secret = append([]byte(nil), tok.Secret[:]...)
	}
	d, err := peer.NewContext(ctx, cfg)
	if errors.Is(err, peer.ErrNoTracker) {
		return withExitCode(2, fmt.Errorf("%w (this folder has not joined a tracker yet)", err))
	}
	if err != nil {
		return err
	}
	stopProfile, err := c.Debug.profile(log)
	if err != nil {
		return err
	}
	stopProgress := startProgress(ctx, d, progress)
	err = d.Run(ctx)
	stopProgress()
	stopProfile()
	switch {
	case errors.Is(err, tracker.ErrWrongToken):
		return withExitCode(exitWrongToken, fmt.Errorf("the tracker refused the join token (from %s): %w", tokenFrom, err))
	case errors.Is(err, tracker.ErrFolderNotShared):
		return withExitCode(exitWrongToken, fmt.Errorf("the tracker does not share any of this peer's folders with this device "+
			"(its admin can widen them: dartsync tracker members): %w", err))
	case errors.Is(err, tracker.ErrNotMember):
		return withExitCode(exitWrongToken, fmt.Errorf("this device is not a member of the tracker (it never joined, or the tracker's owner removed it): "+
			"give a join token with --token-file, DARTSYNC_TOKEN or --token (%w)", err))
	case errors.Is(err, tracker.ErrTrackerIdentity):
		what := "the one this device joined"
		if tokenText != "" {
			what = "the one the join token names"
		}
		return withExitCode(exitWrongToken, fmt.Errorf("the tracker is not %s (%w). %s", what, err, rejoinHint))
	}
	return err
}

// checkStateDir refuses a state directory inside the folder (it would be
// synced) other than the folder's own DIR/.dartsync or a directory below it;
// root and state are absolute.
func checkStateDir(root, state string) error {
	own := filepath.Join(root, manifest.StateDir)
	_, inFolder := folderpath.Rel(root, state)
	_, inOwn := folderpath.Rel(own, state)
	if inFolder && !inOwn {
		return withExitCode(2, fmt.Errorf("--state %s is inside the synced folder: use %s or a directory outside it", state, own))
	}
	return nil
}

// tokenOnCommandLine is the warning for a token given with --token.
const tokenOnCommandLine = "the join token given with --token is visible to other local users (ps, /proc): " +
	"prefer --token-file FILE (mode 0600) or the environment variable DARTSYNC_TOKEN"

// tokenOnArgs reports whether --token was given on the command line (not
// by DARTSYNC_TOKEN or a config file), where other local users see it.
func tokenOnArgs(k *kong.Context) bool {
	if k == nil {
		return false
	}
	for _, p := range k.Path {
		if p.Flag != nil && p.Flag.Name == "token" && !p.Resolved {
			return true
		}
	}
	return false
}

// token returns the join token text and where it came from.
func (c *peerCmd) token() (string, string, error) {
	if c.TokenFile != "" {
		if c.Token != "" {
			return "", "", withExitCode(2, errors.New("give the join token with either --token (or DARTSYNC_TOKEN) or --token-file, not both"))
		}
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return "", "", withExitCode(2, fmt.Errorf("read join token: %w", err))
		}
		return strings.TrimSpace(string(b)), "--token-file " + c.TokenFile, nil
	}
	if c.Token != "" {
		from := "--token"
		if os.Getenv("DARTSYNC_TOKEN") == c.Token {
			from = "--token/DARTSYNC_TOKEN"
		}
		return c.Token, from, nil
	}
	return "", "", nil
}

// settleOrOff maps --settle to peer.Config.Settle: 0 turns the completion
// hints off (negative there).
func settleOrOff(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
