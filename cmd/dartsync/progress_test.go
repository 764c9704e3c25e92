package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dartsync/dartsync/peer/localapi"
)

// step is one status snapshot at an offset from the start of a script.
type step struct {
	at time.Duration
	st localapi.Status
}

func transferring(path string, size, done int64) localapi.Status {
	return localapi.Status{
		Folders:   []localapi.Folder{{Path: "/f", State: localapi.StateSyncing}},
		Transfers: []localapi.Transfer{{Folder: "", Path: path, Size: size, Done: done, Rate: 1 << 20, ETA: 2}},
	}
}

func scanning(files, bytes int64) localapi.Status {
	return localapi.Status{Folders: []localapi.Folder{{Path: "/f", State: localapi.StateScanning, ScanFiles: files, ScanBytes: bytes}}}
}

var idle = localapi.Status{Folders: []localapi.Folder{{Path: "/f", State: localapi.StateIdle}}}

// script polls every 250 ms from 0 to end: the status at each poll is the
// last step at or before it.
func script(end time.Duration, steps ...step) []step {
	var out []step
	i := 0
	for at := time.Duration(0); at <= end; at += progressPoll {
		for i+1 < len(steps) && steps[i+1].at <= at {
			i++
		}
		out = append(out, step{at, steps[i].st})
	}
	return out
}

// play feeds the script to a tracker and sink as runProgress would.
func play(sink progressSink, polls []step) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tr := newProgressTracker(progressAfter)
	for _, p := range polls {
		now := t0.Add(p.at)
		sink.show(now, tr.update(now, p.st))
	}
	sink.done()
}

// TestProgressShowsOnlyLongWork: a transfer or scan shorter than
// progressAfter shows nothing, neither as a bar nor as log lines; a longer
// one shows a bar on a terminal, and log lines every progressLog elsewhere.
func TestProgressShowsOnlyLongWork(t *testing.T) {
	tests := []struct {
		name      string
		polls     []step
		barWants  []string // in the bar's output; none: the output is empty
		logLines  []string // the messages logged, in order
		logFields []string // in the log output
	}{
		{"nothing", script(10*time.Second, step{0, idle}), nil, nil, nil},
		{"short transfer",
			script(10*time.Second, step{0, idle}, step{time.Second, transferring("a/short.bin", 100, 10)},
				step{3 * time.Second, idle}), // lasted 2 s
			nil, nil, nil},
		{"short scan",
			script(6*time.Second, step{0, scanning(10, 1000)}, step{2750 * time.Millisecond, idle}),
			nil, nil, nil},
		{"long transfer",
			script(14*time.Second, step{0, idle},
				step{time.Second, transferring("a/big.bin", 4<<20, 1<<20)},
				step{5 * time.Second, transferring("a/big.bin", 4<<20, 3<<20)},
				step{13 * time.Second, idle}), // lasted 12 s: shown from 4 s, logged at 4 and 9 s
			[]string{"big.bin", "3.0 MiB/4.0 MiB", "1.0 MiB/s", "ETA 2s", "75%"},
			[]string{"transfer progress", "transfer progress"},
			[]string{"path=a/big.bin", "done=3145728", "size=4194304", `rate="1.0 MiB/s"`, "eta=2s"}},
		{"long scan",
			script(8*time.Second, step{0, scanning(5, 100)}, step{2 * time.Second, scanning(500, 4<<20)},
				step{7 * time.Second, idle}), // lasted 7 s: logged at 3 s only
			[]string{"scanning: 500 files, 4.0 MiB"},
			[]string{"scan progress"},
			[]string{"folder=/f", "files=500", "bytes=4194304", "rate="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var term bytes.Buffer
			play(newBarSink(&term), tt.polls)
			out := term.String()
			if len(tt.barWants) == 0 && out != "" {
				t.Errorf("bar output %q, want none", out)
			}
			for _, w := range tt.barWants {
				if !strings.Contains(out, w) {
					t.Errorf("bar output %q lacks %q", out, w)
				}
			}

			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			play(newLogSink(log, progressLog), tt.polls)
			var msgs []string
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if i := strings.Index(l, "msg="); i >= 0 {
					m := strings.TrimPrefix(l[i:], "msg=")
					if j := strings.Index(m, `" `); strings.HasPrefix(m, `"`) && j > 0 {
						m = m[1:j]
					}
					msgs = append(msgs, m)
				}
			}
			if strings.Join(msgs, "|") != strings.Join(tt.logLines, "|") {
				t.Errorf("logged %q, want %q\n%s", msgs, tt.logLines, logs.String())
			}
			for _, w := range tt.logFields {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log %q lacks %q", logs.String(), w)
				}
			}
		})
	}
}

// TestProgressLogLinesAboveBar: a log line written while a bar is shown
// erases the bar first and starts on a line of its own; the bar is drawn
// again after it; done erases the bar.
func TestProgressLogLinesAboveBar(t *testing.T) {
	var term bytes.Buffer
	sink := newBarSink(&term)
	log := slog.New(sink.wrap(slog.NewTextHandler(&term, nil)))
	tr := newProgressTracker(progressAfter)
	t0 := time.Now()
	for _, at := range []time.Duration{0, 4 * time.Second} {
		sink.show(t0.Add(at), tr.update(t0.Add(at), transferring("big.bin", 100<<20, 10<<20)))
	}
	if !strings.Contains(term.String(), "big.bin") {
		t.Fatalf("no bar: %q", term.String())
	}
	mark := term.Len()
	log.Info("hello from the daemon", "k", "v")
	after := term.String()[mark:]
	i := strings.Index(after, "time=")
	if i < 0 {
		t.Fatalf("no log line in %q", after)
	}
	// Before the line: only the erasure of the bar (spaces between carriage returns).
	if pre := after[:i]; strings.Trim(pre, " \r") != "" || !strings.HasSuffix(pre, "\r") {
		t.Errorf("before the log line: %q, want the bar erased", pre)
	}
	rest := after[i:]
	nl := strings.Index(rest, "\n")
	if nl < 0 || !strings.Contains(rest[:nl], "hello from the daemon") || strings.Contains(rest[:nl], "big.bin") {
		t.Fatalf("log line not on a line of its own: %q", rest)
	}
	if !strings.Contains(rest[nl:], "big.bin") {
		t.Errorf("bar not drawn again after the log line: %q", rest[nl:])
	}
	mark = term.Len()
	sink.done()
	if end := term.String()[mark:]; strings.Trim(end, " \r") != "" || end == "" {
		t.Errorf("done wrote %q, want the bar erased", end)
	}
}

// scripted is a statusSource that returns its statuses in turn, then the last.
type scripted struct {
	mu   sync.Mutex
	sts  []localapi.Status
	read int
}

func (s *scripted) Status() localapi.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.sts[min(s.read, len(s.sts)-1)]
	s.read++
	return st
}

func (s *scripted) reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read
}

// recordingSink records what it was shown.
type recordingSink struct {
	mu    sync.Mutex
	shown []longWork
	ended bool
}

func (r *recordingSink) show(_ time.Time, w longWork) {
	r.mu.Lock()
	r.shown = append(r.shown, w)
	r.mu.Unlock()
}

func (r *recordingSink) done() {
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
}

// TestRunProgressPollsUntilCancelled: runProgress reads the status at
// every poll, passes long work on, and calls done when its context ends.
func TestRunProgressPollsUntilCancelled(t *testing.T) {
	src := &scripted{sts: []localapi.Status{transferring("x.bin", 10, 1)}}
	sink := &recordingSink{}
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		runProgress(ctx, src, sink, 5*time.Millisecond, 20*time.Millisecond)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sink.mu.Lock()
		n := len(sink.shown)
		long := n > 0 && len(sink.shown[n-1].Transfers) == 1
		sink.mu.Unlock()
		if long {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d polls (%d reads) the long transfer was not shown", n, src.reads())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("runProgress did not return after cancel")
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if !sink.ended || len(sink.shown[0].Transfers) != 0 {
		t.Errorf("done called %v; first poll showed %d transfers, want 0 (not long yet)", sink.ended, len(sink.shown[0].Transfers))
	}
}
