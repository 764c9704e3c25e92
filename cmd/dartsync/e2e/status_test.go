package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/localapi"
	"github.com/dartsync/dartsync/peer/marker"
)

// runStatus runs `dartsync status ARGS` and returns its stdout, stderr
// and exit code.
func runStatus(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runDartsync(t, "status", args...)
}

// runDartsync runs `dartsync COMMAND ARGS` and returns its stdout, stderr
// and exit code (a failure to start it fails the test).
func runDartsync(t *testing.T, command string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{command}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// statusJSON runs `dartsync status --dir DIR --json` and decodes its one
// JSON object.
func statusJSON(t *testing.T, dir string) (localapi.Status, error) {
	t.Helper()
	out, errOut, code := runStatus(t, "--dir", dir, "--json")
	if code != 0 {
		return localapi.Status{}, fmt.Errorf("exit %d: %s", code, errOut)
	}
	var st localapi.Status
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&st); err != nil {
		return st, fmt.Errorf("--json output %q: %w", out, err)
	}
	if dec.More() {
		return st, fmt.Errorf("--json printed more than one object: %q", out)
	}
	return st, nil
}

// TestStatusShowsTransferAndPeers: with real processes, `dartsync status`
// on the receiving peer shows a slow transfer in progress (path, bytes
// done of its size) in text and in --json; the sender online with its
// address and short device ID; after the sync the file in sync; and once
// the sender is killed, the sender offline (within the tracker's peer
// timeout, 3 s here), while `dartsync status` on the stopped peer's folder
// says the peer is not running and exits non-zero.
func TestStatusShowsTransferAndPeers(t *testing.T) {
	c := newCluster(t, 0)
	// A tracker that drops a silent peer after 3 s.
	c.tracker.stop()
	c.tracker.args = append(c.tracker.args, "--interval", "1s", "--peer-timeout", "3s")
	c.restartTracker()
	// 6 MiB at 512 KiB/s: the transfer lasts about 12 s.
	p1 := c.addPeer("peer1", "--max-send", "512KiB/s")
	p2 := c.addPeer("peer2")
	data := randomBytes(t, 6<<20)
	writeFile(t, p1.dir, "slow.bin", data, 0o644)

	// The JSON and the text status taken one right after the other while
	// the transfer runs.
	var text string
	var st localapi.Status
	eventually(t, syncWait, "the transfer in peer2's status (--json and text)", func() (bool, string) {
		var err error
		st, err = statusJSON(t, p2.dir)
		if err != nil {
			return false, err.Error()
		}
		if len(st.Transfers) != 1 {
			return false, fmt.Sprintf("transfers %+v", st.Transfers)
		}
		out, errOut, code := runStatus(t, "--dir", p2.dir)
		text = out
		return code == 0 && strings.Contains(out, "slow.bin") && strings.Contains(out, "of 6.0 MiB"),
			fmt.Sprintf("exit %d: %s%s", code, out, errOut)
	})
	for _, l := range strings.Split(text, "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("status line wider than 80 columns: %q", l)
		}
	}
	tr := st.Transfers[0]
	if tr.Path != "slow.bin" || tr.Size != int64(len(data)) || tr.Done > tr.Size || tr.Sources != 1 || tr.Started.IsZero() {
		t.Errorf("transfer %+v", tr)
	}
	// (A scan of peer2's folder, should one run just then, shows first.)
	if len(st.Folders) != 1 || st.Folders[0].Path != p2.dir ||
		st.Folders[0].State != localapi.StateSyncing && st.Folders[0].State != localapi.StateScanning {
		t.Errorf("folders %+v, want %s syncing", st.Folders, p2.dir)
	}
	if len(st.Peers) != 1 || !st.Peers[0].Online || !strings.HasPrefix(st.Peers[0].Addr, "127.0.0.1:") {
		t.Fatalf("peers %+v, want peer1 online", st.Peers)
	}
	short := st.Peers[0].Short
	if !strings.Contains(text, short) || !strings.Contains(text, st.Peers[0].Addr) {
		t.Errorf("text status lacks peer1's short ID %s or address %s:\n%s", short, st.Peers[0].Addr, text)
	}

	c.waitAll("slow.bin synced", tree{"slow.bin": fileEntry(data, false)}, p2)
	eventually(t, 20*time.Second, "slow.bin in sync in peer2's status", func() (bool, string) {
		st, err := statusJSON(t, p2.dir)
		if err != nil {
			return false, err.Error()
		}
		f := st.Folders[0]
		return f.FilesInSync == 1 && f.Files == 1 && f.BytesInSync == int64(len(data)) && len(st.Transfers) == 0,
			fmt.Sprintf("folder %+v, transfers %d", f, len(st.Transfers))
	})

	// Killed: it says nothing, the tracker's peer timeout drops it.
	p1.p.kill()
	eventually(t, 60*time.Second, "peer1 offline in peer2's status", func() (bool, string) {
		st, err := statusJSON(t, p2.dir)
		if err != nil {
			return false, err.Error()
		}
		return len(st.Peers) == 1 && !st.Peers[0].Online && !st.Peers[0].LastSeen.IsZero(), fmt.Sprintf("peers %+v", st.Peers)
	})
	out, _, code := runStatus(t, "--dir", p2.dir)
	if code != 0 || !strings.Contains(out, short) || !strings.Contains(out, "offline, last seen") {
		t.Errorf("peer2's status (exit %d) does not show peer1 %s offline:\n%s", code, short, out)
	}
	out, errOut, code := runStatus(t, "--dir", p1.dir)
	if code == 0 || !strings.Contains(errOut, "peer not running") {
		t.Errorf("status of a stopped peer: exit %d, stdout %q, stderr %q; want non-zero and \"peer not running\"", code, out, errOut)
	}
	p2.p.stop()
	c.tracker.stop()
}

// TestSIGTERMWithOpenEventStream: a peer with a /v1/events stream open
// (found through its folder's marker, state kept outside the folder)
// still exits 0 within 5 s of SIGTERM, and the stream ends.
func TestSIGTERMWithOpenEventStream(t *testing.T) {
	c := newCluster(t, 1)
	p1 := c.peers[0]
	m, err := marker.Read(p1.dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Control != filepath.Join(p1.state, localapi.ControlFile) {
		t.Fatalf("marker control %q, want the socket in %s", m.Control, p1.state)
	}
	cl := localapi.NewClient(m.Control)
	defer cl.Close()
	es, err := cl.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	writeFile(t, p1.dir, "hello.txt", []byte("hello"), 0o644)
	for {
		e, err := es.Next()
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		if e.Type == localapi.EventLocalChange && e.Path == "hello.txt" {
			break
		}
	}
	if err := p1.p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err, ok := p1.p.waitExit(5 * time.Second)
	if !ok {
		t.Fatal("peer still running 5 s after SIGTERM with an event stream open")
	}
	if err != nil {
		t.Fatalf("peer exit after SIGTERM: %v (log %s)", err, p1.p.log.Name())
	}
	// The events sent before the exit, then the end.
	for i := 0; ; i++ {
		if _, err := es.Next(); err != nil {
			break
		}
		if i == 1000 {
			t.Fatal("the event stream goes on after the peer stopped")
		}
	}
	c.tracker.stop()
}
