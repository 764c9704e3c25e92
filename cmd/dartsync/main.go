// Command dartsync is the DartSync command line: the tracker, the peer daemon
// and small tools. main only parses the command line with kong and calls the
// chosen command's Run; exit codes are decided in exitCode.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/dartsync/dartsync/peer/localapi"
)

// cli is the whole command line. Each command lives in its own file and has a
// method Run(ctx context.Context, log *slog.Logger) error.
type cli struct {
	LogLevel slog.Level `name:"log-level" default:"info" help:"Log level: debug, info, warn, error."`
	LogJSON  bool       `name:"log-json" help:"Log as JSON lines instead of text."`

	Version  versionCmd  `cmd:"" help:"Print the version."`
	Manifest manifestCmd `cmd:"" help:"Print the manifest (file ID and pieces) of a file."`
	Tracker  trackerCmd  `cmd:"" help:"Run the tracker: the always-on node that knows every file's newest manifest."`
	Peer     peerCmd     `cmd:"" help:"Run a peer: keep folders in sync with the other devices."`
	Versions keptCmd     `cmd:"" help:"List the kept versions of files that remote changes replaced or deleted."`
	Restore  restoreCmd  `cmd:"" help:"Put a kept version of a file back; it syncs to every device as a new version."`
	Status   statusCmd   `cmd:"" help:"Show what the peer syncing a folder is doing: state, transfers, peers, conflicts, errors (exit status 3: no peer running)."`
	Limits   limitsCmd   `cmd:"" help:"Show or change the bandwidth limits of the running peer of a folder (exit status 3: no peer running)."`
}

func main() {
	var c cli
	kctx := kong.Parse(&c, kongOptions()...)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	log := newLogger(c.LogLevel, c.LogJSON)
	kctx.BindTo(ctx, (*context.Context)(nil))
	err := kctx.Run(log)
	stop()
	os.Exit(exitCode(err))
}

// kongOptions are the parser's options (main and the tests parse alike).
func kongOptions() []kong.Option {
	return append(configFileOptions(),
		kong.Name("dartsync"),
		kong.Description("Decentralized file sync: your folders, on your devices, no cloud."),
		kong.UsageOnError(),
		kong.ExplicitGroups([]kong.Group{{
			Key:   "debug",
			Title: "Debugging flags (tests, benchmarks, profiling; they may change without notice):",
		}}),
	)
}

func newLogger(level slog.Level, asJSON bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if asJSON {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// exitNotRunning is the exit status when no peer answers a command that
// asks the running peer (dartsync status).
const exitNotRunning = 3

// exitError carries an explicit exit code for an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExitCode marks err so that the process exits with code.
func withExitCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// exitCode is the one place that maps a command's result to the exit status:
// 0 for success (including shutdown by signal), the code carried by an
// exitError, exitNotRunning when no peer answered (dartsync status), 1 for
// any other error.
func exitCode(err error) int {
	if err == nil || errors.Is(err, context.Canceled) {
		return 0
	}
	fmt.Fprintf(os.Stderr, "dartsync: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, localapi.ErrNotRunning) {
		return exitNotRunning
	}
	return 1
}
