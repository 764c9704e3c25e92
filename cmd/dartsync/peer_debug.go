package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"github.com/dartsync/dartsync/peer"
	"github.com/dartsync/dartsync/peer/transfer"
)

// peerDebug holds the flags of `dartsync peer` meant for tests, benchmarks
// and profiling, never for everyday use: each is spelled --debug-NAME and
// listed under its own heading in --help; the README's "Tests, fuzzing and
// benchmarks" section says what each is for. Their names and meaning may
// change without notice.
type peerDebug struct {
	Retry           time.Duration `name:"retry" default:"5s" help:"Retry interval for files without a live source; tests shorten it."`
	StatsEvery      time.Duration `name:"stats-every" default:"1s" help:"How often STATE/stats.json is rewritten while counters change; tests and benchmarks read it."`
	FetchConns      int           `name:"fetch-conns" help:"QUIC connections per source (0: the default, 2); for transfer benchmarks."`
	FetchWindow     int           `name:"fetch-window" help:"Piece requests in flight per source and file (0: the default, 8); for transfer benchmarks."`
	CPUProfile      string        `name:"cpuprofile" type:"path" placeholder:"FILE" help:"Write a CPU profile here (until shutdown)."`
	Trace           string        `name:"trace" type:"path" placeholder:"FILE" help:"Write a runtime execution trace here (until shutdown; go tool trace)."`
	MemProfile      string        `name:"memprofile" type:"path" placeholder:"FILE" help:"Write a heap profile here at shutdown (allocations since start, and what is in use)."`
	MemProfilePeak  string        `name:"memprofile-peak" type:"path" placeholder:"FILE" help:"Write a heap profile here each time the Go heap reaches a new high (the file holds the highest)."`
	NoSwarm         bool          `name:"no-swarm" help:"Fetch only from owners of complete versions, never from peers still downloading them (to measure what swarming saves)."`
	KillAfterRename bool          `name:"kill-after-rename" help:"SIGKILL this peer right after applied files are renamed into place, before its index records them (the crash window of an end-to-end test)."`
}

// apply sets the fields of cfg that the debug flags decide.
func (f *peerDebug) apply(cfg *peer.Config, log *slog.Logger) {
	cfg.Retry = f.Retry
	cfg.StatsEvery = f.StatsEvery
	cfg.Fetch = transfer.FetchOptions{Conns: f.FetchConns, Window: f.FetchWindow}
	cfg.Debug.NoSwarm = f.NoSwarm
	if f.KillAfterRename {
		cfg.Debug.AfterRename = func() {
			log.Warn("debug: killing this peer after renames, before the index records them")
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				_ = p.Kill()
			}
		}
	}
}

// profile starts the CPU profile if asked for; the returned function stops
// it and writes the heap profile if asked for (at shutdown).
func (f *peerDebug) profile(log *slog.Logger) (stop func(), err error) {
	var cpu *os.File
	if f.CPUProfile != "" {
		if cpu, err = os.Create(f.CPUProfile); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
	}
	var tr *os.File
	if f.Trace != "" {
		if tr, err = os.Create(f.Trace); err == nil {
			if err = trace.Start(tr); err != nil {
				tr.Close()
			}
		}
		if err != nil {
			if cpu != nil {
				pprof.StopCPUProfile()
				cpu.Close()
			}
			return nil, fmt.Errorf("trace: %w", err)
		}
	}
	var peaks *heapPeaks
	if f.MemProfilePeak != "" {
		peaks = startHeapPeaks(f.MemProfilePeak, log)
	}
	return func() {
		if peaks != nil {
			peaks.Close()
		}
		if tr != nil {
			trace.Stop()
			if err := tr.Close(); err != nil {
				log.Warn("trace", "err", err)
			}
		}
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				log.Warn("cpu profile", "err", err)
			}
		}
		if f.MemProfile != "" {
			if err := writeHeapProfile(f.MemProfile); err != nil {
				log.Warn("heap profile", "err", err)
			}
		}
	}, nil
}

// writeHeapProfile writes the heap profile (allocations since the start and
// live objects at the last GC) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
