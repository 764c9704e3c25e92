package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/peer/marker"
)

// statusCmd shows what the peer syncing a folder is doing (`dartsync
// status`). It asks the running peer's local control API, found through
// the folder's marker (or --state); see docs/API.md.
type statusCmd struct {
	Dir      string        `name:"dir" required:"" type:"path" placeholder:"DIR" help:"The synced folder."`
	State    string        `name:"state" type:"path" help:"The peer's state directory, if the folder's marker cannot say (a folder not mounted)."`
	JSON     bool          `name:"json" help:"Print the status as one JSON object (the API's /v1/status; see docs/API.md)."`
	Watch    bool          `name:"watch" help:"Refresh until interrupted (in place on a terminal)."`
	Interval time.Duration `name:"interval" default:"1s" help:"How often --watch refreshes."`

	stdout io.Writer // nil means os.Stdout; set by tests
}

// clearScreen moves a terminal's cursor home and clears the screen.
const clearScreen = "\x1b[H\x1b[2J"

func (c *statusCmd) Run(ctx context.Context, log *slog.Logger) error {
	control, err := controlOf(c.Dir, c.State)
	if err != nil {
		return err
	}
	out := c.stdout
	if out == nil {
		out = os.Stdout
	}
	tty := false
	if f, ok := out.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	cl := localapi.NewClient(control)
	defer cl.Close()
	first := true
	for {
		err := c.show(ctx, cl, out, tty && c.Watch)
		switch {
		case ctx.Err() != nil:
			return nil // interrupted
		case err == nil:
		case first:
			return notRunningHint(err, c.Dir)
		default:
			// The peer stopped (or restarts) while watched: say so and
			// wait for it.
			if tty {
				fmt.Fprint(out, clearScreen)
			}
			what := "peer not running"
			if !errors.Is(err, localapi.ErrNotRunning) {
				what = "no answer from the peer (" + err.Error() + ")"
			}
			fmt.Fprintf(out, "%s: %s; waiting for it (Ctrl-C stops)\n", time.Now().Format("15:04:05"), what)
		}
		first = false
		if !c.Watch {
			return nil
		}
		if !tty && !c.JSON {
			fmt.Fprintln(out)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(c.Interval):
		}
	}
}

// show fetches the status once and prints it (clear: on a terminal, in
// place of the last one).
func (c *statusCmd) show(ctx context.Context, cl *localapi.Client, out io.Writer, clear bool) error {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if c.JSON {
		raw, err := cl.Raw(rctx, "/status")
		if err != nil {
			return err
		}
		var compact []byte
		if compact, err = json.Marshal(raw); err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", compact)
		return err
	}
	st, err := cl.Status(rctx)
	if err != nil {
		return err
	}
	if clear {
		fmt.Fprint(out, clearScreen)
	}
	return renderStatus(out, st, time.Now(), time.Local)
}

// notRunningHint adds to ErrNotRunning how to start the peer.
func notRunningHint(err error, dir string) error {
	if errors.Is(err, localapi.ErrNotRunning) {
		return fmt.Errorf("%w: no dartsync peer is running for %s (start one with `dartsync peer --dir %s`)", err, dir, dir)
	}
	return err
}

// controlOf returns the control API endpoint of the peer syncing dir: in
// the state directory given, else the one the folder's marker names.
func controlOf(dir, state string) (string, error) {
	if state != "" {
		abs, err := filepath.Abs(state)
		if err != nil {
			return "", err
		}
		return localapi.ControlPath(abs), nil
	}
	m, err := marker.Read(dir)
	if err != nil {
		if errors.Is(err, marker.ErrMissing) {
			return "", fmt.Errorf("%w: %s is not a synced folder, or its disk is not mounted (give the peer's --state to ask it anyway): %w",
				localapi.ErrNotRunning, dir, err)
		}
		return "", err
	}
	if m.Control != "" {
		return m.Control, nil
	}
	return localapi.ControlPath(m.StateDir), nil
}
