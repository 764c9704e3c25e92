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
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dartsync/dartsync/internal/folderpath"
	"github.com/dartsync/dartsync/manifest"
	"github.com/dartsync/dartsync/peer/versions"
)

// keptCmd lists the versions a peer kept of files that remote changes
// replaced or deleted (`dartsync versions`). It reads DIR/.dartsync/versions
// only: it needs neither the running peer nor its index.
type keptCmd struct {
	Dir  string `name:"dir" required:"" type:"path" placeholder:"DIR" help:"The synced folder."`
	Path string `arg:"" optional:"" help:"A file or directory, relative to the folder (or absolute inside it); default: everything."`
	JSON bool   `name:"json" help:"Print a JSON array (path, time, seq, size, mod_time, file)."`

	stdout io.Writer // nil means os.Stdout; set by tests
}

func (c *keptCmd) Run(ctx context.Context, log *slog.Logger) error {
	root, rel, err := folderPath(c.Dir, c.Path, true)
	if err != nil {
		return err
	}
	list, err := versions.Open(root, versions.Options{Log: log}).List(rel)
	if err != nil {
		return err
	}
	out := c.stdout
	if out == nil {
		out = os.Stdout
	}
	if c.JSON {
		if list == nil {
			list = []versions.Entry{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	if len(list) == 0 {
		what := "no versions kept in " + root
		if rel != "" {
			what = "no versions kept of " + rel
		}
		_, err := fmt.Fprintln(out, what)
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEPT AT\tSIZE\tPATH")
	for _, e := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Time.Local().Format(time.RFC3339), humanSize(e.Size), e.Path)
	}
	return tw.Flush()
}

// restoreCmd puts a kept version back (`dartsync restore`): a new local
// edit, which the peer (running now or started later) reports like any
// other, so every device gets it.
type restoreCmd struct {
	Dir  string `name:"dir" required:"" type:"path" placeholder:"DIR" help:"The synced folder."`
	Path string `arg:"" help:"The file to restore, relative to the folder (or absolute inside it)."`
	At   string `name:"at" placeholder:"TIME" help:"Restore the newest version kept at or before TIME (as 'dartsync versions' prints it: RFC 3339, e.g. 2025-03-04T05:06:07+01:00; or YYYYMMDD-HHMMSS in UTC as in the kept file's name). Default: the newest."`

	stdout io.Writer // nil means os.Stdout; set by tests
}

func (c *restoreCmd) Run(ctx context.Context, log *slog.Logger) error {
	root, rel, err := folderPath(c.Dir, c.Path, false)
	if err != nil {
		return err
	}
	var at time.Time
	if c.At != "" {
		if at, err = parseAt(c.At); err != nil {
			return withExitCode(2, err)
		}
	}
	res, err := versions.Open(root, versions.Options{Log: log}).Restore(rel, at)
	if err != nil {
		return err
	}
	out := c.stdout
	if out == nil {
		out = os.Stdout
	}
	from := fmt.Sprintf("the version kept at %s (%s)", res.From.Time.Local().Format(time.RFC3339), humanSize(res.From.Size))
	if res.Same {
		_, err = fmt.Fprintf(out, "%s already holds %s: nothing to do\n", rel, from)
		return err
	}
	fmt.Fprintf(out, "restored %s from %s\n", rel, from)
	if res.Kept.File != "" {
		fmt.Fprintf(out, "the file it replaced is kept, as of %s\n", res.Kept.Time.Local().Format(time.RFC3339))
	}
	_, err = fmt.Fprintln(out, "the peer reports it as a new version (now if it runs, else when it starts): every device gets it")
	return err
}

// folderPath returns the folder's absolute path and p as a folder-relative
// slash path ("" for the whole folder when empty is allowed). p is
// folder-relative, or absolute inside the folder.
func folderPath(dir, p string, empty bool) (string, string, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return "", "", fmt.Errorf("folder: %w", err)
	}
	if !fi.IsDir() {
		return "", "", withExitCode(2, fmt.Errorf("%s is not a directory", root))
	}
	if filepath.IsAbs(p) {
		r, ok := folderpath.Rel(root, p)
		if !ok {
			return "", "", withExitCode(2, fmt.Errorf("%s is not inside the folder %s", p, root))
		}
		p = r
	}
	rel := strings.Trim(filepath.ToSlash(filepath.Clean("/"+p)), "/")
	if rel == "" {
		if !empty {
			return "", "", withExitCode(2, errors.New("give the path of a file to restore"))
		}
		return root, "", nil
	}
	if err := manifest.ValidatePath(rel); err != nil {
		return "", "", withExitCode(2, err)
	}
	return root, rel, nil
}

// parseAt parses --at: RFC 3339, a kept file's stamp (UTC), or a local
// date and time without a zone.
func parseAt(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(versions.StampLayout, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--at %q: not a time (use RFC 3339 as 'dartsync versions' prints it, or YYYYMMDD-HHMMSS in UTC)", s)
}

// humanSize prints bytes with a binary unit.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// keepDuration is --keep-versions: a Go duration ("720h", "90m") or whole
// days ("30d"); 0 keeps nothing.
type keepDuration time.Duration

func (d *keepDuration) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > 100*365 {
			return fmt.Errorf("duration %q: use whole days (30d) or a duration (720h)", s)
		}
		*d = keepDuration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("duration %q: use whole days (30d) or a duration (720h)", s)
	}
	*d = keepDuration(v)
	return nil
}

// keepSize is --keep-versions-size: bytes with a decimal (KB, MB, GB, TB)
// or binary (KiB, MiB, GiB, TiB; K, M, G, T) unit, or a percentage of the
// folder's file system ("5%"); 0 means the default, 10%.
type keepSize struct {
	bytes   int64
	percent float64
}

func (k *keepSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(v > 0 && v <= 100) {
			return fmt.Errorf("size %q: a percentage above 0 and at most 100", s)
		}
		*k = keepSize{percent: v}
		return nil
	}
	num := strings.TrimRightFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	unit := strings.ToLower(strings.TrimSpace(s[len(num):]))
	mult, ok := map[string]float64{
		"": 1, "b": 1,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20,
		"g": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tib": 1 << 40,
	}[unit]
	if !ok {
		return fmt.Errorf("size %q: unknown unit %q (use MB, GB, MiB, GiB, ... or a percentage)", s, unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || v*mult >= 1<<62 {
		return fmt.Errorf("size %q: not a size", s)
	}
	*k = keepSize{bytes: int64(v * mult)}
	return nil
}
