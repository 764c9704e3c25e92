package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/dartsync/dartsync/tracker"
	"github.com/dartsync/dartsync/tracker/admin"
)

// trackerTokenCmd prints a new join token limited to named folders
// (docs/ACCESS.md).
type trackerTokenCmd struct {
	Folders string        `name:"folders" required:"" help:"Folders the token grants, comma-separated ((default) is the default folder)."`
	Expires time.Duration `name:"expires" default:"0s" help:"The token expires after this long (0: never). Devices that joined stay members."`
	JSON    bool          `name:"json" help:"Print the token, its folders and expiry as JSON."`

	stdout io.Writer // nil means os.Stdout; set by tests
	stderr io.Writer // nil means os.Stderr; set by tests
}

// Run issues the token through the running tracker's admin socket, or in
// its state directly when no tracker runs.
func (c *trackerTokenCmd) Run(ctx context.Context, log *slog.Logger, t *trackerCmd) error {
	g, err := tracker.ParseFolderList(c.Folders)
	if err != nil {
		return withExitCode(2, fmt.Errorf("--folders: %w", err))
	}
	if c.Expires < 0 {
		return withExitCode(2, fmt.Errorf("--expires %v is negative", c.Expires))
	}
	svc, done, err := openAdmin(t, log)
	if err != nil {
		return err
	}
	defer done()
	tok, err := svc.IssueToken(ctx, g.Folders, c.Expires)
	if err != nil {
		return adminErr(err)
	}
	out := orStdout(c.stdout)
	if c.JSON {
		return writeIndentedJSON(out, tok)
	}
	fmt.Fprintln(out, tok.Token)
	exp := "never expires"
	if tok.Expires != nil {
		exp = "expires " + tok.Expires.Local().Format(time.DateTime)
	}
	fmt.Fprintf(orStderr(c.stderr), "join token for folders %s (%s); a device joins with: dartsync peer --dir NAME=PATH --tracker HOST:PORT --token TOKEN\n",
		grantText(false, tok.Folders), exp)
	return nil
}

// trackerMembersCmd lists members, or changes or removes one.
type trackerMembersCmd struct {
	Device     string `name:"device" help:"The member to change: its device ID, or at least its first 7 characters."`
	Folders    string `name:"folders" help:"With --device: replace its folders with these (comma-separated)."`
	AllFolders bool   `name:"all-folders" help:"With --device: give it every folder."`
	Remove     bool   `name:"remove" help:"With --device: remove it (its sessions are closed; it needs a token to join again)."`
	JSON       bool   `name:"json" help:"Print as JSON."`

	stdout io.Writer // nil means os.Stdout; set by tests
	stderr io.Writer // nil means os.Stderr; set by tests
}

// Run lists or changes members through the running tracker's admin socket,
// or in its state directly when no tracker runs.
func (c *trackerMembersCmd) Run(ctx context.Context, log *slog.Logger, t *trackerCmd) error {
	actions := 0
	for _, set := range []bool{c.Folders != "", c.AllFolders, c.Remove} {
		if set {
			actions++
		}
	}
	switch {
	case c.Device == "" && actions > 0:
		return withExitCode(2, errors.New("--folders, --all-folders and --remove need --device"))
	case c.Device != "" && actions != 1:
		return withExitCode(2, errors.New("with --device give exactly one of --folders, --all-folders, --remove"))
	}
	var g tracker.Grant
	if c.Folders != "" {
		var err error
		if g, err = tracker.ParseFolderList(c.Folders); err != nil {
			return withExitCode(2, fmt.Errorf("--folders: %w", err))
		}
	}
	svc, done, err := openAdmin(t, log)
	if err != nil {
		return err
	}
	defer done()
	out := orStdout(c.stdout)
	switch {
	case c.Remove:
		if err := svc.RemoveMember(ctx, c.Device); err != nil {
			return adminErr(err)
		}
		fmt.Fprintf(orStderr(c.stderr), "removed member %s\n", c.Device)
		return nil
	case c.Device != "":
		m, err := svc.SetFolders(ctx, c.Device, c.AllFolders, g.Folders)
		if err != nil {
			return adminErr(err)
		}
		if c.JSON {
			return writeIndentedJSON(out, m)
		}
		return printMembers(out, []admin.Member{m})
	}
	ms, err := svc.Members(ctx)
	if err != nil {
		return adminErr(err)
	}
	if c.JSON {
		return writeIndentedJSON(out, ms)
	}
	return printMembers(out, ms)
}

// openAdmin reaches the tracker of t's state directory: its admin socket if
// a tracker runs, else the state itself (tracker.OpenStateAdmin). done
// releases what it opened.
func openAdmin(t *trackerCmd, log *slog.Logger) (svc admin.Service, done func(), err error) {
	state := t.State
	if state == "" {
		if state, err = defaultTrackerState(); err != nil {
			return nil, nil, withExitCode(2, err)
		}
	}
	sock := filepath.Join(state, admin.SocketFile)
	cl := admin.NewClient(sock)
	if _, err := cl.Members(context.Background()); err == nil {
		return cl, func() {}, nil
	} else if !admin.IsNotRunning(err) {
		return nil, nil, fmt.Errorf("tracker admin socket %s: %w", sock, err)
	}
	log.Debug("no tracker answers on the admin socket; opening its state", "state", state)
	sa, err := tracker.OpenStateAdmin(state)
	if errors.Is(err, tracker.ErrTrackerRunning) {
		return nil, nil, fmt.Errorf("%w, but its admin socket %s does not answer", err, sock)
	}
	if err != nil {
		return nil, nil, err
	}
	return sa, func() {
		if err := sa.Close(); err != nil {
			log.Warn("close tracker state", "err", err)
		}
	}, nil
}

// adminErr gives a refused request the usage exit code.
func adminErr(err error) error {
	if errors.Is(err, admin.ErrInvalid) || errors.Is(err, admin.ErrNotFound) {
		return withExitCode(2, err)
	}
	return err
}

// trackerSubcommand reports whether kong selected a subcommand of tracker
// (token, members): kong runs the parent's Run after the child's, and the
// tracker itself must then not start.
func trackerSubcommand(k *kong.Context) bool {
	return k != nil && strings.HasPrefix(k.Command(), "tracker ")
}

func orStderr(w io.Writer) io.Writer {
	if w == nil {
		return os.Stderr
	}
	return w
}

func orStdout(w io.Writer) io.Writer {
	if w == nil {
		return os.Stdout
	}
	return w
}
