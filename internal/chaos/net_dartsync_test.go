package chaos

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLANDartsyncSync runs real dartsync processes across the LAN: a
// tracker and two peers, each in its own namespace. A file made on peer1
// reaches peer2 (QUIC through the forwarder; peer2 fetches from the address
// the tracker observed for peer1, which is peer1's own since nothing
// rewrites addresses), then a second one under loss, delay, duplication
// and reordering. It builds the binary, so it runs only when DARTSYNC_CHAOS
// is set (make chaos).
func TestLANDartsyncSync(t *testing.T) {
	if os.Getenv("DARTSYNC_CHAOS") == "" {
		t.Skip("builds dartsync: set DARTSYNC_CHAOS to run it")
	}
	l := newTestLAN(t, "tracker", "peer1", "peer2")
	base := t.TempDir()
	bin := filepath.Join(base, "dartsync")
	build := exec.Command("go", "build", "-o", bin, "github.com/dartsync/dartsync/cmd/dartsync")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build dartsync: %v: %s", err, out)
	}
	hosts := l.Hosts()
	trackerAddr := fmt.Sprintf("%s:7000", hosts[0].IP)
	start := func(host int, args ...string) {
		t.Helper()
		logf, err := os.Create(filepath.Join(base, hosts[host].Name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := l.Command(host, bin, args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(base, "no-config"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			logf.Close()
			if t.Failed() {
				b, _ := os.ReadFile(logf.Name())
				t.Logf("---- %s log:\n%s", hosts[host].Name, lastLines(b, 40))
			}
		})
	}
	start(0, "tracker", "--listen", trackerAddr, "--state", filepath.Join(base, "tracker"), "--http", "off")
	var token []byte
	lanWait(t, "the tracker's join token", func() bool {
		token, _ = os.ReadFile(filepath.Join(base, "tracker", "join.token"))
		return len(bytes.TrimSpace(token)) > 0
	})
	dir := func(h int) string { return filepath.Join(base, hosts[h].Name, "folder") }
	for h := 1; h <= 2; h++ {
		if err := os.MkdirAll(dir(h), 0o755); err != nil {
			t.Fatal(err)
		}
		start(h, "peer", "--dir", dir(h), "--state", filepath.Join(base, hosts[h].Name, "state"),
			"--listen", fmt.Sprintf("%s:7001", hosts[h].IP), "--tracker", trackerAddr,
			"--token", string(bytes.TrimSpace(token)), "--debounce", "100ms", "--log-level", "debug")
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir(1), name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	arrives := func(name, content string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			got, err := os.ReadFile(filepath.Join(dir(2), name))
			if err == nil && string(got) == content {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not reach peer2 (stats %+v)", name, l.Stats())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	began := time.Now()
	write("plain.txt", strings.Repeat("plain network\n", 5000))
	arrives("plain.txt", strings.Repeat("plain network\n", 5000))
	t.Logf("plain: reached peer2 %v after the start", time.Since(began))
	trackerLog, _ := os.ReadFile(filepath.Join(base, "tracker.log"))
	for h := 1; h <= 2; h++ { // the tracker saw each peer's own address
		if want := fmt.Sprintf("addr=%s:7001", hosts[h].IP); !bytes.Contains(trackerLog, []byte(want)) {
			t.Errorf("tracker log has no %q:\n%s", want, lastLines(trackerLog, 20))
		}
	}
	if err := l.Impair(Impairment{Loss: 0.05, Dup: 0.05, Reorder: 0.05, Delay: 5 * time.Millisecond, Jitter: 5 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	write("impaired.txt", strings.Repeat("impaired network\n", 50000))
	arrives("impaired.txt", strings.Repeat("impaired network\n", 50000))
	t.Logf("impaired: reached peer2 in %v; forwarder %+v", time.Since(began), l.Stats())

	// Cut peer1 from peer2 (both still reach the tracker): the change is
	// reported but cannot be fetched until Heal.
	if err := l.Impair(Impairment{}); err != nil {
		t.Fatal(err)
	}
	if err := l.Partition([]int{1}, []int{2}); err != nil {
		t.Fatal(err)
	}
	cut := l.Stats().Cut
	write("partitioned.txt", strings.Repeat("partitioned\n", 10000))
	lanWait(t, "peer2 trying peer1 across the partition", func() bool { return l.Stats().Cut > cut })
	time.Sleep(time.Second) // hold the partition a while (no timing is asserted)
	if _, err := os.Stat(filepath.Join(dir(2), "partitioned.txt")); err == nil {
		t.Error("partitioned.txt reached peer2 across the partition")
	}
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	arrives("partitioned.txt", strings.Repeat("partitioned\n", 10000))
	t.Logf("partition: reached peer2 %v after Heal", time.Since(began))
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
