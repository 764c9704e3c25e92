package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"github.com/dartsync/dartsync/peer/versions"
)

func TestKeepDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"30d", 30 * 24 * time.Hour, false},
		{"0", 0, false},
		{"0d", 0, false},
		{"12h", 12 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"1.5d", 0, true},
		{"-1d", 0, true},
		{"-5h", 0, true},
		{"d", 0, true},
		{"forever", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		var d keepDuration
		err := d.UnmarshalText([]byte(tt.in))
		if (err != nil) != tt.wantErr || (err == nil && time.Duration(d) != tt.want) {
			t.Errorf("keepDuration(%q) = %v, %v; want %v, error %v", tt.in, time.Duration(d), err, tt.want, tt.wantErr)
		}
	}
}

func TestKeepSize(t *testing.T) {
	tests := []struct {
		in      string
		want    keepSize
		wantErr bool
	}{
		{"500MB", keepSize{bytes: 500e6}, false},
		{"2GiB", keepSize{bytes: 2 << 30}, false},
		{"2G", keepSize{bytes: 2 << 30}, false},
		{"1.5 GB", keepSize{bytes: 1.5e9}, false},
		{"1TB", keepSize{bytes: 1e12}, false},
		{"4096", keepSize{bytes: 4096}, false},
		{"0", keepSize{}, false},
		{"5%", keepSize{percent: 5}, false},
		{"0.5%", keepSize{percent: 0.5}, false},
		{"100%", keepSize{percent: 100}, false},
		{"0%", keepSize{}, true},
		{"101%", keepSize{}, true},
		{"-1MB", keepSize{}, true},
		{"5PB", keepSize{}, true},
		{"MB", keepSize{}, true},
		{"", keepSize{}, true},
		{"99999999999TB", keepSize{}, true},
	}
	for _, tt := range tests {
		var k keepSize
		err := k.UnmarshalText([]byte(tt.in))
		if (err != nil) != tt.wantErr || (err == nil && k != tt.want) {
			t.Errorf("keepSize(%q) = %+v, %v; want %+v, error %v", tt.in, k, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseAt(t *testing.T) {
	local := time.Date(2025, 3, 4, 5, 6, 7, 0, time.Local)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2025-03-04T05:06:07Z", time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), false},
		{"2025-03-04T06:06:07+01:00", time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), false},
		{"20250304-050607", time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), false},
		{"2025-03-04 05:06:07", local, false},
		{"2025-03-04", time.Date(2025, 3, 4, 0, 0, 0, 0, time.Local), false},
		{"yesterday", time.Time{}, true},
		{"20250304", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseAt(tt.in)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("parseAt(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPeerKeepFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    time.Duration
		wantCap keepSize
	}{
		{nil, 30 * 24 * time.Hour, keepSize{percent: 10}},
		{[]string{"--keep-versions", "0", "--keep-versions-size", "2GiB"}, 0, keepSize{bytes: 2 << 30}},
		{[]string{"--keep-versions=7d", "--keep-versions-size=5%"}, 7 * 24 * time.Hour, keepSize{percent: 5}},
	}
	for _, tt := range tests {
		var c cli
		parser, err := kong.New(&c, kong.Name("dartsync"), kong.Exit(func(int) { t.Fatal("kong exited") }))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.Parse(append([]string{"peer", "--dir", t.TempDir()}, tt.args...)); err != nil {
			t.Fatal(err)
		}
		if time.Duration(c.Peer.KeepVersions) != tt.want || c.Peer.KeepVersionsSize != tt.wantCap {
			t.Errorf("peer %v: keep %v cap %+v; want %v %+v", tt.args, time.Duration(c.Peer.KeepVersions), c.Peer.KeepVersionsSize, tt.want, tt.wantCap)
		}
	}
}

// runCmd parses args like the real command line and runs the chosen
// command (versions or restore) with its output captured.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var c cli
	parser, err := kong.New(&c, kong.Name("dartsync"), kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	switch kctx.Command() {
	case "versions", "versions <path>":
		c.Versions.stdout = &out
		err = c.Versions.Run(context.Background(), log)
	case "restore <path>":
		c.Restore.stdout = &out
		err = c.Restore.Run(context.Background(), log)
	default:
		t.Fatalf("command %q", kctx.Command())
	}
	return out.String(), err
}

func TestVersionsAndRestoreCmd(t *testing.T) {
	root := t.TempDir()
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	s := versions.Open(root, versions.Options{Now: func() time.Time { return now }})
	put := func(rel, data string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p+".tmp", []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			t.Fatal(err)
		}
	}
	// docs/a.txt: v1 replaced at now, v2 replaced a day later; gone.txt
	// deleted a day later.
	put("docs/a.txt", "v1")
	if _, _, err := s.Keep("docs/a.txt"); err != nil {
		t.Fatal(err)
	}
	put("docs/a.txt", "v2")
	now = now.Add(24 * time.Hour)
	if _, _, err := s.Keep("docs/a.txt"); err != nil {
		t.Fatal(err)
	}
	put("docs/a.txt", "v3")
	put("gone.txt", "deleted bytes")
	if _, err := s.Remove("gone.txt", func(fs.FileInfo) bool { return true }); err != nil {
		t.Fatal(err)
	}

	out, err := runCmd(t, "versions", "--dir", root)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "KEPT AT") ||
		!strings.HasSuffix(lines[1], "docs/a.txt") || !strings.HasSuffix(lines[3], "gone.txt") ||
		!strings.Contains(lines[3], "13 B") || !strings.HasPrefix(lines[1], time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC).Local().Format(time.RFC3339)) {
		t.Fatalf("versions output:\n%s", out)
	}
	out, err = runCmd(t, "versions", "--dir", root, "--json", "docs")
	if err != nil {
		t.Fatal(err)
	}
	var list []versions.Entry
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if len(list) != 2 || list[0].Path != "docs/a.txt" || list[0].Size != 2 || list[1].Time.Sub(list[0].Time) != 24*time.Hour {
		t.Fatalf("--json docs = %+v", list)
	}
	if out, err := runCmd(t, "versions", "--dir", root, "nothing/here"); err != nil || !strings.Contains(out, "no versions kept of nothing/here") {
		t.Fatalf("versions of nothing = %q, %v", out, err)
	}

	// The deleted file comes back.
	out, err = runCmd(t, "restore", "--dir", root, "gone.txt")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "gone.txt")); string(b) != "deleted bytes" || !strings.Contains(out, "restored gone.txt") {
		t.Fatalf("restore gone.txt: %q; file %q", out, b)
	}
	// --at picks an older version; the current file (v3) is kept first.
	out, err = runCmd(t, "restore", "--dir", root, filepath.Join(root, "docs", "a.txt"), "--at", "20250304-120000")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "docs", "a.txt")); string(b) != "v1" || !strings.Contains(out, "the file it replaced is kept") {
		t.Fatalf("restore --at: %q; file %q", out, b)
	}
	l, _ := s.List("docs/a.txt")
	if b, _ := os.ReadFile(l[len(l)-1].File); len(l) != 3 || string(b) != "v3" {
		t.Fatalf("the replaced v3 is not kept: %+v", l)
	}
	// Again: nothing to do.
	if out, err := runCmd(t, "restore", "--dir", root, "docs/a.txt", "--at", "2025-03-04T05:06:07Z"); err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("restore of the current content = %q, %v", out, err)
	}

	var ee *exitError
	for _, tt := range []struct {
		args     []string
		wantCode int // 0: any error
		wantErr  error
	}{
		{[]string{"restore", "--dir", root, "docs/a.txt", "--at", "tomorrow"}, 2, nil},
		{[]string{"restore", "--dir", root, "/elsewhere/a.txt"}, 2, nil},
		{[]string{"restore", "--dir", root, ".dartsync/versions/gone~20250305-050607.txt"}, 2, nil},
		{[]string{"restore", "--dir", root, "."}, 2, nil},
		{[]string{"restore", "--dir", root, "never.txt"}, 0, versions.ErrNoVersion},
		{[]string{"restore", "--dir", root, "docs/a.txt", "--at", "2025-03-04T05:06:06Z"}, 0, versions.ErrNoVersion},
		{[]string{"versions", "--dir", filepath.Join(root, "missing")}, 0, fs.ErrNotExist},
	} {
		_, err := runCmd(t, tt.args...)
		switch {
		case err == nil:
			t.Errorf("%v: no error", tt.args)
		case tt.wantCode != 0 && (!errors.As(err, &ee) || ee.code != tt.wantCode):
			t.Errorf("%v: %v, want exit code %d", tt.args, err, tt.wantCode)
		case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
			t.Errorf("%v: %v, want %v", tt.args, err, tt.wantErr)
		}
	}
}
