package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/alecthomas/kong"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/internal/transport"
	"github.com/dartsync/dartsync/tracker"
)

// trackerMemoryLimit is the Go runtime's soft memory limit for the tracker
// unless GOMEMLIMIT is set: it keeps the heap small on a Pi Zero 2.
const trackerMemoryLimit = 32 << 20

// trackerShutdown bounds a clean shutdown after SIGINT/SIGTERM.
const trackerShutdown = 5 * time.Second

// trackerCmd runs the tracker until SIGINT/SIGTERM.
type trackerCmd struct {
	Listen      string        `name:"listen" default:":7000" help:"Address to listen on: UDP (QUIC) and TCP, same port."`
	Transport   string        `name:"transport" default:"auto" enum:"auto,quic,tcp" help:"Transports served: auto (QUIC on UDP and TLS on TCP), quic or tcp only."`
	State       string        `name:"state" type:"path" help:"State directory (identity, state.db, join.token); default $XDG_STATE_HOME/dartsync/tracker or ~/.local/state/dartsync/tracker."`
	Interval    time.Duration `name:"interval" default:"30s" help:"Keep-alive interval peers are told to use."`
	PeerTimeout time.Duration `name:"peer-timeout" default:"90s" help:"Drop a peer after this long without a keep-alive."`
	PieceSize   byteSize      `name:"piece-size" default:"1MiB" help:"Piece size peers are told to use (4KiB..16MiB)."`
	HTTP        *string       `name:"http" placeholder:"ADDR" help:"TCP address of the web dashboard and /metrics (default 127.0.0.1:7080; 'off' disables). The dashboard asks for the secret in admin.secret in the state directory."`
	NoDiscovery bool          `name:"no-discovery" env:"DARTSYNC_NO_DISCOVERY" help:"Do not announce this tracker on the local network (UDP 21010); peers then need --tracker HOST:PORT."`

	Token   trackerTokenCmd   `cmd:"" help:"Print a new join token limited to named folders, or rotate the tracker's own token (--rotate)."`
	Members trackerMembersCmd `cmd:"" help:"List the tracker's members (members list); remove one (members remove DEVICE); change a member's folders."`
}

func (c *trackerCmd) Run(ctx context.Context, log *slog.Logger, k *kong.Context) error {
	if trackerSubcommand(k) {
		return nil // token or members ran
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(trackerMemoryLimit)
	}
	if c.PeerTimeout <= c.Interval {
		return withExitCode(2, fmt.Errorf("--peer-timeout (%v) must be longer than --interval (%v)", c.PeerTimeout, c.Interval))
	}
	state := c.State
	if state == "" {
		var err error
		if state, err = defaultTrackerState(); err != nil {
			return withExitCode(2, err)
		}
	}
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		return fmt.Errorf("tracker: identity: %w", err)
	}
	srv, err := tracker.New(tracker.ServerConfig{
		Listen: c.Listen, Mode: transport.Mode(c.Transport), StateDir: state, Interval: c.Interval, PeerTimeout: c.PeerTimeout,
		PieceSize: int64(c.PieceSize), Log: log,
		// small flow-control windows: tracker messages are small and the tracker runs on a Pi
		Transport: transport.Options{StreamWindow: 2 << 20, ConnWindow: 4 << 20, Log: log},
		Identity:  id, // also signs the LAN announcements
	})
	if err != nil {
		return err
	}
	// never the secret itself: logs are read by others and kept (docs/ACCESS.md)
	tokenFile := filepath.Join(state, tracker.TokenFile)
	log.Info("tracker started", "version", version, "addr", srv.Addr(), "device", srv.ID(), "state", state,
		"token_file", tokenFile)
	join := "to join a device, copy " + tokenFile + " to it (keep it private) and run on it: " + joinCommand(srv.Addr(), tracker.TokenFile)
	if !c.NoDiscovery {
		join += " (on this local network --tracker may be left out: the peer finds the tracker)"
	}
	log.Info(join)
	web, err := startTrackerHTTP(c.HTTP, defaultTrackerHTTP, state, srv, log)
	if err != nil {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		return errors.Join(err, srv.Run(cctx)) // releases the state and the listener
	}
	defer func() { // the dashboard reads only the server's memory: it may outlive Run
		if werr := web.close(); werr != nil {
			log.Warn("stop dashboard", "err", werr)
		}
	}()

	stopAnnouncer := startAnnouncer(ctx, c.NoDiscovery, id, srv.Addr(), log)
	defer stopAnnouncer()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }() // Run releases the state and the listener
	select {
	case err = <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	t := time.NewTimer(trackerShutdown)
	defer t.Stop()
	select {
	case err = <-done:
		return err
	case <-t.C:
	}
	<-done // the state is closed only once every session has ended
	return errors.New("tracker: shutdown took longer than 5s")
}

// joinCommand is the exact command a device runs to join this tracker, with
// the join token copied to tokenFile on it.
func joinCommand(addr net.Addr, tokenFile string) string {
	port := "7000"
	host := ""
	if ua, ok := addr.(*net.UDPAddr); ok {
		port = strconv.Itoa(ua.Port)
		if !ua.IP.IsUnspecified() {
			host = ua.IP.String()
		}
	}
	if host == "" {
		host = outboundHost()
	}
	return fmt.Sprintf("dartsync peer --dir ~/sync --tracker %s --token-file %s", net.JoinHostPort(host, port), tokenFile)
}

// outboundHost guesses the address other devices reach this machine at: the
// first global unicast address of an interface that is up, else the host name.
func outboundHost() string {
	ifs, err := net.Interfaces()
	if err == nil {
		for _, ifc := range ifs {
			if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
				continue
			}
			addrs, _ := ifc.Addrs()
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsGlobalUnicast() {
					return ipn.IP.String()
				}
			}
		}
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// defaultTrackerState is $XDG_STATE_HOME/dartsync/tracker, or
// ~/.local/state/dartsync/tracker.
func defaultTrackerState() (string, error) {
	if x := os.Getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "dartsync", "tracker"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no --state given and no home directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "dartsync", "tracker"), nil
}
