package peer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker"
)

// Environment of the receiving child of BenchmarkReceiveSmallFiles.
const (
	envRecvChild = "DARTSYNC_BENCH_RECEIVER" // "addr token root state files"
	envRecvFiles = "DARTSYNC_BENCH_FILES"    // N (default 20000)
)

// BenchmarkReceiveSmallFiles: a new peer receives N files of 1 KiB
// (DARTSYNC_BENCH_FILES, default 20 000; 100 000 for the figure)
// from a peer that already has them, tracker and sender in this process,
// the receiver in a child process of its own so that its memory is its
// alone. Reported: files/s (from the receiver's start to its last file),
// the receiver's peak Go heap (HeapInuse sampled every 20 ms) and its
// VmHWM (resident peak as the OS counts it: heap, stacks, code, mapped
// files). Not for -race.
func BenchmarkReceiveSmallFiles(b *testing.B) {
	files := 20000
	if s := os.Getenv(envRecvFiles); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("%s: %v", envRecvFiles, err)
		}
		files = v
	}
	n := newTestNetPieces(b, 1<<20)
	src := b.TempDir()
	data := make([]byte, 1<<10)
	for j := 0; j < files; j++ {
		sub := filepath.Join(src, fmt.Sprintf("d%03d", j/100))
		if j%100 == 0 {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		for k := range data {
			data[k] = byte(j*31 + k*7 + k>>8)
		}
		copy(data, fmt.Sprintf("file %d ", j))
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%05d", j)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	a := startSender(b, n, src)
	for a.d.Stats().LocalChanges < int64(files) { // a first scan of 100 000 files takes a while
		time.Sleep(50 * time.Millisecond)
	}
	var fps, heap, hwm float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fps, heap, hwm = runReceiver(b, n, files)
	}
	b.ReportMetric(fps, "files/s")
	b.ReportMetric(heap, "recv-peak-heap-MiB")
	b.ReportMetric(hwm, "recv-VmHWM-MiB")
}

// startSender is testNet.start without the wait for the first scan.
func startSender(b *testing.B, n *testNet, root string) *testPeer {
	state := filepath.Join(b.TempDir(), "state")
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		b.Fatal(err)
	}
	d, err := New(Config{
		Root: root, StateDir: state, Identity: id,
		TrackerAddr: n.srv.Addr().String(), TrackerID: n.token.Tracker, Secret: append([]byte(nil), n.token.Secret[:]...),
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		Log: testLog(),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &testPeer{d: d, root: root, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- d.Run(ctx) }()
	b.Cleanup(p.stop)
	return p
}

// runReceiver runs one receiving child until it has files files and
// returns its files/s, peak heap and VmHWM (MiB).
func runReceiver(b *testing.B, n *testNet, files int) (fps, heap, hwm float64) {
	b.Helper()
	root, state := b.TempDir(), filepath.Join(b.TempDir(), "state")
	cmd := exec.Command(os.Args[0], "-test.run=^TestReceiverChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %s %s %d", envRecvChild, n.srv.Addr(), n.token, root, state, files))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	got := false
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "received "); ok {
			if _, err := fmt.Sscanf(rest, "%g %g %g", &fps, &heap, &hwm); err != nil {
				b.Fatalf("child said %q: %v", sc.Text(), err)
			}
			got = true
		}
	}
	if err := cmd.Wait(); err != nil || !got {
		b.Fatalf("receiver child: %v (result seen: %v)", err, got)
	}
	return fps, heap, hwm
}

// TestReceiverChild is the receiving peer of BenchmarkReceiveSmallFiles;
// it skips itself unless started by it.
func TestReceiverChild(t *testing.T) {
	spec := os.Getenv(envRecvChild)
	if spec == "" {
		t.Skip("child role of BenchmarkReceiveSmallFiles")
	}
	var addr, tok, root, state string
	var files int64
	if _, err := fmt.Sscanf(spec, "%s %s %s %s %d", &addr, &tok, &root, &state, &files); err != nil {
		t.Fatal(err)
	}
	token, err := tracker.ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.LoadOrCreate(state)
	if err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("DARTSYNC_BENCH_CPUPROF"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	began := time.Now()
	d, err := New(Config{
		Root: root, StateDir: state, Identity: id,
		TrackerAddr: addr, TrackerID: token.Tracker, Secret: append([]byte(nil), token.Secret[:]...),
		ListenAddr: "127.0.0.1:0", Debounce: 30 * time.Millisecond, Rescan: -1, Retry: 100 * time.Millisecond,
		Log: testLog(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var peak uint64
	var ms runtime.MemStats
	tick := time.NewTicker(20 * time.Millisecond)
	// A heap profile at each new peak past 1.25 times the last one (from
	// 16 MiB), for a look at what grows.
	prof, profiled := os.Getenv("DARTSYNC_BENCH_HEAPPROF"), uint64(16<<20)
	for d.Stats().FilesApplied < files {
		<-tick.C
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		if prof != "" && ms.HeapInuse > profiled*5/4 {
			writeHeapProfile(t, prof)
			profiled = ms.HeapInuse
		}
	}
	took := time.Since(began)
	tick.Stop()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	hwm := vmKiB("VmHWM")
	fmt.Printf("received %.0f %.1f %.1f\n", float64(files)/took.Seconds(), float64(peak)/(1<<20), float64(hwm)/1024)
}

func writeHeapProfile(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Fatal(err)
	}
}

// vmKiB reads one field (kB) of /proc/self/status; 0 where there is none.
func vmKiB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return v
		}
	}
	return 0
}
