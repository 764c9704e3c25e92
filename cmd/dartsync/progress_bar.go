package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// barWidth is the width of the bar itself: with the percentage and the
// description the line fits 80 columns.
const barWidth = 20

// barSink draws one live progress bar (schollz/progressbar) on a terminal:
// the running transfers together (their bytes done of their total, their
// rate and ETA as the daemon reports them), else a running scan (files and
// bytes read, rate; its total is not known in advance). Log lines go
// through wrap, which clears the bar, writes the line and draws the bar
// again below it, so the two never share a line.
type barSink struct {
	out io.Writer

	mu  sync.Mutex // guards bar and key; held while anything is written to out
	bar *progressbar.ProgressBar
	key string // what bar shows: "" none, else the scan's folder or the transfers' paths
}

func newBarSink(out io.Writer) *barSink { return &barSink{out: out} }

// show draws w: a new bar when what is shown changes, else the same bar
// moved on.
func (s *barSink) show(_ time.Time, w longWork) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, total, cur, desc := barView(w)
	if key != s.key {
		s.clearLocked()
		s.key = key
		if key != "" {
			s.bar = s.newBar(total, desc)
		}
	}
	if s.bar == nil {
		return
	}
	if total > 0 {
		cur = min(cur, total)
	}
	s.bar.Describe(desc) // renders
	_ = s.bar.Set64(cur) // renders when the percentage moves; for a scan (total -1) the spinner turns
}

// newBar returns a bar of total units (-1: unknown, a spinner). It starts
// no goroutine of its own (no spinner interval): it is drawn only by show
// and wrap, under s.mu.
func (s *barSink) newBar(total int64, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWriter(s.out),
		progressbar.OptionSetWidth(barWidth),
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetTheme(progressbar.ThemeASCII),
	)
}

// clearLocked erases and drops the bar; s.mu is held.
func (s *barSink) clearLocked() {
	if s.bar != nil {
		_ = s.bar.Clear()
		_ = s.bar.Exit()
		s.bar = nil
	}
	s.key = ""
}

// done erases the bar.
func (s *barSink) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearLocked()
}

// barView is what the bar shows for w: the transfers when there are any,
// else the first scan. key changes when a different bar is needed.
func barView(w longWork) (key string, total, cur int64, desc string) {
	if len(w.Transfers) > 0 {
		var paths []string
		var rate, eta float64
		for _, t := range w.Transfers {
			paths = append(paths, t.Folder+"\x00"+t.Path)
			total += t.Size
			cur += t.Done
			rate += t.Rate
			eta = maxf(eta, t.ETA)
		}
		name := shorten(path.Base(w.Transfers[0].Path), 20)
		if n := len(w.Transfers); n > 1 {
			name = fmt.Sprintf("%d files", n)
		}
		desc = fmt.Sprintf("%s %s/%s %s/s ETA %s", name, humanBytes(float64(cur)), humanBytes(float64(total)),
			humanBytes(rate), etaText(eta))
		return "transfers\x00" + strings.Join(paths, "\x00"), max(total, 1), cur, desc
	}
	if len(w.Scans) > 0 {
		sc := w.Scans[0]
		desc = fmt.Sprintf("scanning: %d files, %s, %s/s", sc.Files, humanBytes(float64(sc.Bytes)), humanBytes(sc.Rate))
		return "scan\x00" + sc.Folder, -1, sc.Bytes, desc
	}
	return "", 0, 0, ""
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

// shorten cuts s to at most n runes, marking the cut with "…".
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// wrap returns a handler that writes h's records above the bar.
func (s *barSink) wrap(h slog.Handler) slog.Handler { return &barLogHandler{Handler: h, s: s} }

// barLogHandler is a slog.Handler whose records are written with the bar
// cleared and drawn again after them (the handler writes to the same
// terminal as the bar).
type barLogHandler struct {
	slog.Handler
	s *barSink
}

// Handle holds the sink's mutex while the record is written to the
// terminal: that write is what the mutex orders against the bar's.
func (b *barLogHandler) Handle(ctx context.Context, r slog.Record) error {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if b.s.bar != nil {
		_ = b.s.bar.Clear()
	}
	err := b.Handler.Handle(ctx, r)
	if b.s.bar != nil {
		_ = b.s.bar.RenderBlank()
	}
	return err
}

func (b *barLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &barLogHandler{Handler: b.Handler.WithAttrs(as), s: b.s}
}

func (b *barLogHandler) WithGroup(name string) slog.Handler {
	return &barLogHandler{Handler: b.Handler.WithGroup(name), s: b.s}
}
