package tracker

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/dartsync/dartsync/manifest"
)

// scalePushes is how many single changes the push phase times.
const scalePushes = 1000

// BenchmarkTrackerScale: the tracker at N files (DARTSYNC_SCALE_FILES,
// default 1 000 000) owned by 16 members. It builds the state through
// store.apply (DARTSYNC_SCALE_CACHE keeps it between runs), starts a
// tracker process on it and reports:
//
//   - open-s: from the process's start to its listener being up (the state
//     opened), and ready-s: to the first peer registered;
//
//   - the tracker's VmHWM, RssAnon and RssFile (/proc/PID/status) after
//     open and at the end, in MiB;
//
//   - state-B/file: state.db's size over N;
//
//   - catch-up: a peer resuming 10 000 changes behind ("a day ago") gets
//     those changes only: entries, messages, the largest message;
//
//   - push p50/p99: 1 000 single changes, each from the Update call to its
//     arrival at all 16 peers.
//
//     go test -run '^$' -bench Scale -benchtime 1x ./tracker
func BenchmarkTrackerScale(b *testing.B) {
	n := scaleFiles()
	for b.Loop() {
		st := prepareScaleState(b, n)
		fi, err := os.Stat(filepath.Join(st.dir, StateFile))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fi.Size())/float64(n), "state-B/file")
		b.ReportMetric(float64(usedBytes(b, filepath.Join(st.dir, StateFile)))/float64(n), "state-used-B/file")
		if st.build > 0 {
			b.Logf("built %d files x %d owners in %v", n, scaleMembers, st.build.Round(time.Millisecond))
		}
		if err := os.WriteFile(filepath.Join(st.dir, "interval"), []byte(DefaultInterval.String()), 0o600); err != nil {
			b.Fatal(err)
		}
		// the first start (a state of an older schema is migrated then),
		// killed, and the restart measured
		start := time.Now()
		first, _, kill := startScaleChild(b, st.dir)
		firstOpen := time.Since(start)
		memFirst := procMem(b, first.Process.Pid)
		kill()
		start = time.Now()
		child, addr, _ := startScaleChild(b, st.dir)
		opened := time.Since(start)
		memOpen := procMem(b, child.Process.Pid)
		tok := readToken(b, st.dir)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)

		// 15 peers resume at the last sequence number
		peers := &loadPeers{cancel: cancel, g: &errgroup.Group{}}
		defer peers.stop()
		run := func(i int, h Handler, last uint64) {
			c := NewClient(ClientConfig{Addr: addr, Identity: st.members[i], Tracker: tok.Tracker, ListenPort: 7001, Handler: h,
				LastSeq: func() uint64 { return last }, LastEpoch: func() Epoch { return st.epoch }})
			peers.clients = append(peers.clients, c)
			peers.g.Go(func() error { return c.Run(ctx) })
		}
		for i := range scaleMembers - 1 {
			h := newCountingHandler()
			h.seq.Store(st.seq)
			peers.handlers = append(peers.handlers, h)
			run(i, h, st.seq)
		}
		waitRegistered(b, peers.handlers[:1])
		ready := time.Since(start)
		waitRegistered(b, peers.handlers)
		memPeers := procMem(b, child.Process.Pid)

		// the 16th resumes from a day ago
		cu := &catchup{countingHandler: newCountingHandler()}
		cuStart := time.Now()
		run(scaleMembers-1, cu, st.dayStart)
		peers.handlers = append(peers.handlers, cu.countingHandler)
		if err := cu.waitSeq(ctx, st.seq); err != nil {
			b.Fatal(err)
		}
		cuTime := time.Since(cuStart)
		memCatchup := procMem(b, child.Process.Pid)
		cu.mu.Lock()
		cuEntries, cuMsgs, cuMost, cuLargest := cu.entries.Load(), cu.msgs, cu.most, cu.largest
		cu.mu.Unlock()

		lat := pushPhase(ctx, b, peers, n, st.seq)
		memEnd := procMem(b, child.Process.Pid)

		b.ReportMetric(firstOpen.Seconds(), "first-open-s")
		b.ReportMetric(memFirst["VmHWM"], "first-open-VmHWM-MiB")
		b.ReportMetric(opened.Seconds(), "open-s")
		b.ReportMetric(ready.Seconds(), "ready-s")
		b.ReportMetric(memOpen["VmHWM"], "open-VmHWM-MiB")
		b.ReportMetric(memEnd["VmHWM"], "VmHWM-MiB")
		b.ReportMetric(memEnd["RssAnon"], "RssAnon-MiB")
		b.ReportMetric(memEnd["RssFile"], "RssFile-MiB")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "push-p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "push-p99-ms")
		b.ReportMetric(float64(cuEntries), "catchup-entries")
		b.ReportMetric(float64(cuMsgs), "catchup-msgs")
		b.ReportMetric(float64(cuLargest), "catchup-max-B")
		b.Logf("15 peers registered: %v; catch-up done: %v", memPeers, memCatchup)
		b.Logf("N=%d: first start: open %v, %v; restart: open %v, first peer registered %v; after open %v; at the end %v; catch-up of %d changes: %d entries in %d messages (largest %d entries, ~%d bytes) in %v; push p50 %v p99 %v",
			n, firstOpen.Round(time.Millisecond), memFirst, opened.Round(time.Millisecond), ready.Round(time.Millisecond), memOpen, memEnd, st.seq-st.dayStart,
			cuEntries, cuMsgs, cuMost, cuLargest, cuTime.Round(time.Millisecond), lat[len(lat)/2], lat[len(lat)*99/100])
		cancel()
		if err := peers.g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}

// pushPhase makes the first peer report scalePushes single edits of files
// not changed before and returns each one's latency until all peers have
// it, sorted.
func pushPhase(ctx context.Context, b *testing.B, peers *loadPeers, n int, seq uint64) []time.Duration {
	lat := make([]time.Duration, 0, scalePushes)
	stride := n / scalePushes
	for j := range scalePushes {
		i := j*stride + 1
		m := scaleEdit(i, 2, loadManifest(i).ID)
		start := time.Now()
		rs, err := peers.clients[0].Update(ctx, []Change{{New: m}})
		if err != nil || rs[0].Outcome != Accepted {
			b.Fatal(err, rs)
		}
		if err := peers.drain(ctx, rs[0].Seq); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return lat
}

// catchup counts the UPDATES messages a resuming peer receives.
type catchup struct {
	*countingHandler
	mu      sync.Mutex
	msgs    int
	most    int // entries of the largest message
	largest int // estimated encoded bytes of the largest message
}

func (c *catchup) Updates(es []Entry) {
	size := 0
	for i := range es {
		size += proto.Size(manifest.ToProto(&es[i].Manifest)) + 34*len(es[i].Owners) + 16
	}
	c.mu.Lock()
	c.msgs++
	c.most = max(c.most, len(es))
	c.largest = max(c.largest, size)
	c.mu.Unlock()
	c.countingHandler.Updates(es)
}

func waitRegistered(b *testing.B, hs []*countingHandler) {
	deadline := time.Now().Add(5 * time.Minute)
	for _, h := range hs {
		for h.regs.Load() == 0 {
			if time.Now().After(deadline) {
				b.Fatal("peers did not register")
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// usedBytes returns the bytes of the state's pages in use (its size less
// its free pages).
func usedBytes(b *testing.B, path string) int64 {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var used int64
	err = db.View(func(tx *bolt.Tx) error {
		st := db.Stats()
		used = tx.Size() - int64(st.FreePageN+st.PendingPageN)*int64(db.Info().PageSize)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return used
}

func readToken(b *testing.B, dir string) Token {
	raw, err := os.ReadFile(filepath.Join(dir, TokenFile))
	if err != nil {
		b.Fatal(err)
	}
	tok, err := ParseToken(string(raw))
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// startScaleChild is startChild with a wait long enough for a large state,
// polling finely (the wait is the open time measured). kill ends the child
// (SIGKILL) and waits for it.
func startScaleChild(b *testing.B, dir string) (cmd *exec.Cmd, addr string, kill func()) {
	b.Helper()
	os.Remove(filepath.Join(dir, "addr"))
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	kill = func() { cmd.Process.Kill(); <-exited }
	b.Cleanup(kill)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if raw, err := os.ReadFile(filepath.Join(dir, "addr")); err == nil {
			return cmd, string(raw), kill
		}
		select {
		case <-exited:
			b.Fatalf("child tracker exited: %v", cmd.ProcessState)
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatal("child tracker did not start")
		}
	}
}

// procMem reads the memory lines of /proc/pid/status, in MiB.
type memFigures map[string]float64

func (m memFigures) String() string {
	return fmt.Sprintf("VmHWM %.1f MiB (RSS now %.1f: anon %.1f + file %.1f)", m["VmHWM"], m["VmRSS"], m["RssAnon"], m["RssFile"])
}

func procMem(b *testing.B, pid int) memFigures {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	out := memFigures{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(k, "Vm") && !strings.HasPrefix(k, "Rss") {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 2 && fs[1] == "kB" {
			kb, _ := strconv.ParseFloat(fs[0], 64)
			out[k] = kb / 1024
		}
	}
	return out
}
