package main

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// contribDir is the repository's contrib directory (service files).
const contribDir = "../../contrib"

// unitExecStart returns the ExecStart= command of a systemd unit file.
func unitExecStart(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "ExecStart="); ok {
			return cmd
		}
	}
	t.Fatalf("%s: no ExecStart", path)
	return ""
}

// parseCommand parses a dartsync command line (without the program name)
// as main does; it fails the test on an unknown flag or command.
func parseCommand(t *testing.T, args []string) {
	t.Helper()
	var c cli
	parser, err := kong.New(&c, append(kongOptions(), kong.Exit(func(int) { t.Fatalf("kong exited on %v", args) }))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse(args); err != nil {
		t.Errorf("dartsync %s: %v", strings.Join(args, " "), err)
	}
}

// TestSystemdUnits: the units' commands are valid dartsync command lines,
// and systemd-analyze verify accepts the units (when it is installed; the
// binary path is pointed at this test's executable, which exists).
func TestSystemdUnits(t *testing.T) {
	home := t.TempDir()
	for _, tt := range []struct {
		file, command string
		user          bool
	}{
		{"dartsync-tracker.service", "tracker", false},
		{"dartsync-peer.service", "peer", true},
	} {
		path := filepath.Join(contribDir, "systemd", tt.file)
		cmd := unitExecStart(t, path)
		fields := strings.Fields(strings.ReplaceAll(cmd, "%h", home))
		if len(fields) < 2 || fields[0] != "/usr/local/bin/dartsync" || fields[1] != tt.command {
			t.Errorf("%s: ExecStart=%s, want /usr/local/bin/dartsync %s ...", tt.file, cmd, tt.command)
			continue
		}
		parseCommand(t, fields[1:])
		verifyUnit(t, path, tt.user)
	}
}

func verifyUnit(t *testing.T, path string, user bool) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Logf("systemd-analyze not installed: %s not verified", filepath.Base(path))
		return
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(unit, bytes.ReplaceAll(b, []byte("/usr/local/bin/dartsync"), []byte(self)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"verify", unit}
	if user {
		args = []string{"--user", "verify", unit}
	}
	c := exec.Command(analyze, args...)
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	c.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+run, "SYSTEMD_LOG_LEVEL=notice")
	out, err := c.CombinedOutput()
	if err != nil && strings.Contains(string(out), "Failed to initialize manager") {
		t.Logf("systemd-analyze cannot run here (%s): %s not verified", strings.TrimSpace(string(out)), filepath.Base(path))
		return
	}
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// plistValue is one value of an XML property list.
type plistValue struct {
	XMLName xml.Name
	Text    string       `xml:",chardata"`
	Items   []plistValue `xml:",any"`
}

// TestLaunchdPlist: the agent is a well-formed property list whose Label
// matches its file name and whose command is a valid dartsync command line.
func TestLaunchdPlist(t *testing.T) {
	path := filepath.Join(contribDir, "launchd", "org.dartsync.peer.plist")
	if plutil, err := exec.LookPath("plutil"); err == nil {
		if out, err := exec.Command(plutil, "-lint", path).CombinedOutput(); err != nil {
			t.Errorf("plutil -lint: %v\n%s", err, out)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	dec.Strict = true
	var root plistValue
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if cd, ok := tok.(xml.CharData); err != nil || !ok || len(bytes.TrimSpace(cd)) > 0 {
			t.Fatalf("%s: content after </plist>: %v %v", path, tok, err)
		}
	}
	if root.XMLName.Local != "plist" || len(root.Items) != 1 || root.Items[0].XMLName.Local != "dict" {
		t.Fatalf("%s: want <plist><dict>", path)
	}
	dict := map[string]plistValue{}
	items := root.Items[0].Items
	for i := 0; i+1 < len(items); i += 2 {
		if items[i].XMLName.Local != "key" {
			t.Fatalf("%s: %s where a <key> belongs", path, items[i].XMLName.Local)
		}
		dict[items[i].Text] = items[i+1]
	}
	if len(items)%2 != 0 {
		t.Fatalf("%s: a key without a value", path)
	}
	if got := dict["Label"].Text; got != "org.dartsync.peer" {
		t.Errorf("Label %q, want org.dartsync.peer (the file name)", got)
	}
	var args []string
	for _, s := range dict["ProgramArguments"].Items {
		args = append(args, s.Text)
	}
	if len(args) != 3 || args[0] != "/bin/sh" || args[1] != "-c" {
		t.Fatalf("ProgramArguments %q, want /bin/sh -c COMMAND", args)
	}
	shell, _, _ := strings.Cut(args[2], " 2>>")
	fields := strings.Fields(strings.ReplaceAll(strings.TrimPrefix(shell, "exec "), `"$HOME/sync"`, t.TempDir()))
	if len(fields) < 2 || fields[0] != "/usr/local/bin/dartsync" || fields[1] != "peer" {
		t.Fatalf("command %q, want exec /usr/local/bin/dartsync peer ...", args[2])
	}
	parseCommand(t, fields[1:])
	if dict["RunAtLoad"].XMLName.Local != "true" {
		t.Error("RunAtLoad is not true")
	}
}
