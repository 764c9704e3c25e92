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

// trackerTokenCmd prints a new join token limited to named folders, or
// rotates the tracker's own token (docs/ACCESS.md).
type trackerTokenCmd struct {
	Folders string        `name:"folders" help:"Folders the token grants, comma-separated ((default) is the default folder)."`
	Expires time.Duration `name:"expires" default:"0s" help:"The token expires after this long (0: never). Devices that joined stay members."`
	Rotate  bool          `name:"rotate" help:"Replace the tracker's own join token (join.token) with a new secret: members stay members, the old token admits no new device."`
	JSON    bool          `name:"json" help:"Print the token, its folders and expiry as JSON."`

	stdout io.Writer // nil means os.Stdout; set by tests
	stderr io.Writer // nil means os.Stderr; set by tests
}

// Run issues the token through the running tracker's admin socket, or in
// its state directly when no tracker runs.
func (c *trackerTokenCmd) Run(ctx context.Context, log *slog.Logger, t *trackerCmd) error {
	if c.Rotate == (c.Folders != "") {
		return withExitCode(2, errors.New("give either --folders (a new limited token) or --rotate (a new secret for the tracker's own token)"))
	}
	if c.Rotate {
		return c.rotate(ctx, log, t)
	}
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
	fmt.Fprintf(orStderr(c.stderr), "join token for folders %s (%s); save it in a file (mode 0600) on the device, which joins with: dartsync peer --dir NAME=PATH --tracker HOST:PORT --token-file FILE\n",
		grantText(false, tok.Folders), exp)
	return nil
}

// rotate replaces the tracker's own token and prints the new one.
func (c *trackerTokenCmd) rotate(ctx context.Context, log *slog.Logger, t *trackerCmd) error {
	if c.Expires != 0 {
		return withExitCode(2, errors.New("--expires does not apply to --rotate (the tracker's own token never expires)"))
	}
	svc, done, err := openAdmin(t, log)
	if err != nil {
		return err
	}
	defer done()
	tok, err := svc.RotateToken(ctx)
	if err != nil {
		return adminErr(err)
	}
	if c.JSON {
		return writeIndentedJSON(orStdout(c.stdout), tok)
	}
	fmt.Fprintln(orStdout(c.stdout), tok.Token)
	fmt.Fprintf(orStderr(c.stderr), "the tracker's join token was replaced (also in %s): members stay members; the old token admits no new device\n",
		filepath.Join(t.statePath(), tracker.TokenFile))
	return nil
}

// trackerMembersCmd lists members (members list, the default), removes one
// (members remove DEVICE) or changes one's folders (--device ID --folders).
// --device ID --remove is the older form of members remove.
type trackerMembersCmd struct {
	Device     string `name:"device" help:"The member to change: its device ID, or at least its first 7 characters."`
	Folders    string `name:"folders" help:"With --device: replace its folders with these (comma-separated)."`
	AllFolders bool   `name:"all-folders" help:"With --device: give it every folder."`
	Remove     bool   `name:"remove" help:"With --device: remove it (as members remove DEVICE)."`
	JSON       bool   `name:"json" help:"Print as JSON."`

	List      membersListCmd   `cmd:"" default:"withargs" help:"List the members, one line each: device ID, name, folders, joined, last seen (the default)."`
	RemoveCmd membersRemoveCmd `cmd:"" name:"remove" help:"Remove a member: its sessions are closed, the other peers stop serving it, and it is refused from then on."`

	stdout io.Writer // nil means os.Stdout; set by tests
	stderr io.Writer // nil means os.Stderr; set by tests
}

// membersListCmd is members list (and members with the flag forms).
type membersListCmd struct{}

// Run lists or changes members through the running tracker's admin socket,
// or in its state directly when no tracker runs.
func (membersListCmd) Run(ctx context.Context, log *slog.Logger, c *trackerMembersCmd, t *trackerCmd) error {
	return c.run(ctx, log, t)
}

// membersRemoveCmd is members remove DEVICE.
type membersRemoveCmd struct {
	Device string `arg:"" name:"device" help:"The member's device ID, or at least its first 7 characters."`
}

// Run removes the member.
func (r membersRemoveCmd) Run(ctx context.Context, log *slog.Logger, c *trackerMembersCmd, t *trackerCmd) error {
	if c.Device != "" || c.Folders != "" || c.AllFolders || c.Remove {
		return withExitCode(2, errors.New("members remove DEVICE takes no --device, --folders, --all-folders or --remove"))
	}
	svc, done, err := openAdmin(t, log)
	if err != nil {
		return err
	}
	defer done()
	return c.remove(ctx, svc, r.Device)
}

func (c *trackerMembersCmd) remove(ctx context.Context, svc admin.Service, device string) error {
	if err := svc.RemoveMember(ctx, device); err != nil {
		return adminErr(err)
	}
	fmt.Fprintf(orStderr(c.stderr), "removed member %s: its sessions are closed and it is refused from then on "+
		"(to let it back, give it a token made now: dartsync tracker token)\n", device)
	return nil
}

func (c *trackerMembersCmd) run(ctx context.Context, log *slog.Logger, t *trackerCmd) error {
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
		return c.remove(ctx, svc, c.Device)
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
	if len(ms) == 0 {
		fmt.Fprintln(orStderr(c.stderr), "no members")
	}
	return printMembers(out, ms)
}

// statePath is --state or the default state directory ("" if neither).
func (t *trackerCmd) statePath() string {
	if t.State != "" {
		return t.State
	}
	s, _ := defaultTrackerState()
	return s
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
