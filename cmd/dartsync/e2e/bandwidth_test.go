package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/localapi"
)

// runLimits runs `dartsync limits ARGS` and returns its stdout, stderr and
// exit code.
func runLimits(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runDartsync(t, "limits", args...)
}

// limitsOf is `dartsync limits --dir DIR --json ARGS`, decoded.
func limitsOf(t *testing.T, dir string, args ...string) localapi.Limits {
	t.Helper()
	out, errOut, code := runLimits(t, append([]string{"--dir", dir, "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("dartsync limits %v: exit %d: %s", args, code, errOut)
	}
	var l localapi.Limits
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("dartsync limits --json: %q: %v", out, err)
	}
	return l
}

// fileComplete reports whether root/rel holds exactly data.
func fileComplete(root, rel string, data []byte) bool {
	b, err := os.ReadFile(filepath.Join(root, rel))
	return err == nil && bytes.Equal(b, data)
}

// TestBandwidthLimitBoundsThroughput: a sender started with --max-send
// 2MB/s sends a file no faster than that (the whole transfer takes at
// least size/rate less one burst: a lower bound, which slowness cannot
// break; the average is logged); `dartsync limits` then slows it to the
// lowest limit, under which a second file is still incomplete seconds
// later, and lifts the limit, after which that file arrives.
func TestBandwidthLimitBoundsThroughput(t *testing.T) {
	c := newCluster(t, 0)
	p1 := c.addPeer("peer1", "--max-send", "2MB/s")
	p2 := c.addPeer("peer2")
	const rate, size = 2e6, 8 << 20
	data := randomBytes(t, size)
	start := time.Now()
	writeFile(t, p1.dir, "limited.bin", data, 0o644)
	eventually(t, 2*syncWait, "limited.bin on peer2", func() (bool, string) {
		return fileComplete(p2.dir, "limited.bin", data), "not yet"
	})
	took := time.Since(start)
	// One burst (20 ms of the rate, at least 32 KiB) may go at once.
	min := time.Duration(float64(size-64<<10) / rate * 0.9 * float64(time.Second))
	t.Logf("%d MiB at --max-send 2MB/s: %v from the write to the complete file, %.2f MB/s on average", size>>20, took, float64(size)/took.Seconds()/1e6)
	if took < min {
		t.Errorf("%d bytes under --max-send 2MB/s arrived in %v, want at least %v", size, took, min)
	}
	l := limitsOf(t, p1.dir)
	if l.MaxSend != 2e6 || l.MaxRecv != 0 || l.LANUnlimited || l.SentLimited < size {
		t.Errorf("peer1's limits %+v: want max_send 2000000 and at least %d bytes sent through it", l, size)
	}

	// At run time: the lowest limit (8 KiB/s: 4 MiB would take over 8
	// minutes), then none.
	if l := limitsOf(t, p1.dir, "--max-send", "8KiB/s"); l.MaxSend != 8<<10 {
		t.Fatalf("after --max-send 8KiB/s: %+v", l)
	}
	if _, errOut, code := runLimits(t, "--dir", p1.dir, "--max-send", "fast"); code != 2 || !strings.Contains(errOut, "--max-send") {
		t.Errorf("a bad rate: exit %d, %q; want exit 2 naming --max-send", code, errOut)
	}
	second := randomBytes(t, 4<<20)
	writeFile(t, p1.dir, "second.bin", second, 0o644)
	eventually(t, syncWait, "second.bin's transfer under way on peer2", func() (bool, string) {
		st, err := statusJSON(t, p2.dir)
		if err != nil {
			return false, err.Error()
		}
		return len(st.Transfers) == 1 && st.Transfers[0].Path == "second.bin", fmt.Sprintf("transfers %+v", st.Transfers)
	})
	time.Sleep(2 * time.Second)
	if fileComplete(p2.dir, "second.bin", second) {
		t.Fatal("4 MiB arrived within seconds under --max-send 8KiB/s set at run time")
	}
	out, errOut, code := runLimits(t, "--dir", p1.dir, "--max-send", "0")
	if code != 0 || !strings.Contains(out, "send:            unlimited") {
		t.Fatalf("dartsync limits --max-send 0: exit %d: %s%s", code, out, errOut)
	}
	eventually(t, syncWait, "second.bin on peer2 once the limit is lifted", func() (bool, string) {
		return fileComplete(p2.dir, "second.bin", second), "not yet"
	})
	c.stopAll()
}

// TestBandwidthTrackerNotLimitedAndLAN: two peers that send and receive at
// the lowest limit, while a large transfer between them saturates both
// buckets, still hear of each other's new directories and empty files
// (tracker traffic only) at once, both ways; `dartsync limits
// --lan-unlimited` then exempts loopback (a local subnet) and the large
// file arrives, with no more bytes counted against the limits.
func TestBandwidthTrackerNotLimitedAndLAN(t *testing.T) {
	c := newCluster(t, 0)
	slow := []string{"--max-send", "8KiB/s", "--max-recv", "8KiB/s"}
	p1 := c.addPeer("peer1", slow...)
	p2 := c.addPeer("peer2", slow...)
	big := randomBytes(t, 4<<20)
	writeFile(t, p1.dir, "big.bin", big, 0o644)
	eventually(t, syncWait, "big.bin's transfer under way on peer2", func() (bool, string) {
		st, err := statusJSON(t, p2.dir)
		if err != nil {
			return false, err.Error()
		}
		return len(st.Transfers) == 1, fmt.Sprintf("transfers %+v", st.Transfers)
	})

	want := tree{}
	for i := range 10 {
		for _, pp := range []*peerProc{p1, p2} {
			d := fmt.Sprintf("%s-dir%d", pp.name, i)
			if err := os.MkdirAll(filepath.Join(pp.dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, pp.dir, d+"/empty.txt", nil, 0o644)
			want[d] = "dir"
			want[d+"/empty.txt"] = fileEntry(nil, false)
		}
	}
	// peer1 applies peer2's new paths; peer2 hears of peer1's at once too
	// (its status counts what the tracker listed), though it applies them
	// only after the pull round busy with big.bin.
	hasAll := func(pp *peerProc, of string) func() (bool, string) {
		return func() (bool, string) {
			got, err := readTree(pp.dir)
			if err != nil {
				return false, err.Error()
			}
			for p, w := range want {
				if strings.HasPrefix(p, of) && got[p] != w {
					return false, fmt.Sprintf("%s: %q, want %q", p, got[p], w)
				}
			}
			return true, ""
		}
	}
	eventually(t, syncWait, "peer2's new directories and empty files on peer1", hasAll(p1, "peer2-"))
	eventually(t, syncWait, "peer1's new files listed in peer2's status", func() (bool, string) {
		st, err := statusJSON(t, p2.dir)
		if err != nil {
			return false, err.Error()
		}
		// big.bin, peer1's 10 empty files and its own 10.
		return len(st.Folders) == 1 && st.Folders[0].Files >= 21, fmt.Sprintf("folders %+v", st.Folders)
	})
	if fileComplete(p2.dir, "big.bin", big) {
		t.Fatal("4 MiB arrived under 8KiB/s limits: the limits were not in force")
	}

	before := limitsOf(t, p1.dir)
	for _, pp := range []*peerProc{p1, p2} {
		if l := limitsOf(t, pp.dir, "--lan-unlimited"); !l.LANUnlimited || l.MaxSend != 8<<10 || l.MaxRecv != 8<<10 {
			t.Fatalf("%s after --lan-unlimited: %+v", pp.name, l)
		}
	}
	eventually(t, syncWait, "big.bin on peer2 with loopback exempt", func() (bool, string) {
		return fileComplete(p2.dir, "big.bin", big), "not yet"
	})
	eventually(t, syncWait, "peer1's new directories and empty files on peer2", hasAll(p2, "peer1-"))
	// Waits that began before the change count once each; nothing after.
	if after := limitsOf(t, p1.dir); after.SentLimited > before.SentLimited+64<<10*16 {
		t.Errorf("peer1 counted %d more bytes against its limit after loopback was exempted", after.SentLimited-before.SentLimited)
	}
	c.stopAll()
}
