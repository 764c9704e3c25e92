package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// heapPeaks writes a heap profile each time the Go heap's objects reach a
// new high (by at least heapPeakStep), for --debug-memprofile-peak: the
// profile at shutdown shows what is in use then, not at the peak. The file
// is replaced each time, so it holds the last (highest) peak. One goroutine,
// owned by the heapPeaks: Close stops it and waits.
type heapPeaks struct {
	path string
	log  *slog.Logger
	stop chan struct{}
	wg   sync.WaitGroup
}

// heapPeakStep is how much the heap must grow past the last written peak
// before another profile is written.
const heapPeakStep = 1 << 20

func startHeapPeaks(path string, log *slog.Logger) *heapPeaks {
	h := &heapPeaks{path: path, log: log, stop: make(chan struct{})}
	h.wg.Add(1)
	go h.run()
	return h
}

func (h *heapPeaks) run() {
	defer h.wg.Done()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	var peak uint64
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v >= peak+heapPeakStep {
			peak = v
			if err := writeInuse(h.path, v); err != nil {
				h.log.Warn("peak heap profile", "err", err)
				return
			}
		}
	}
}

// Close stops the sampling and waits for it.
func (h *heapPeaks) Close() {
	close(h.stop)
	h.wg.Wait()
}

// writeInuse writes the heap profile (in use at the last GC) to path,
// through a temporary file, and the heap size that triggered it beside it.
func writeInuse(path string, heap uint64) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(path+".size", fmt.Appendf(nil, "%d %s\n", heap, time.Now().UTC().Format(time.RFC3339Nano)), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
