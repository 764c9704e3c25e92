package peer

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dartsync/dartsync/peer/localapi"
)

// errorRingSize is how many recent warnings and errors Status keeps.
const errorRingSize = 20

// maxErrorText bounds one kept message.
const maxErrorText = 400

// errorRing keeps the last errorRingSize warnings and errors the daemon
// logged (Status.Errors) and publishes each as an event. lost, if set, is
// called for the tracker client's "connection lost" warning.
type errorRing struct {
	mu   sync.Mutex
	buf  []localapi.Error // oldest first
	bus  *localapi.Bus
	lost func()
}

func newErrorRing(bus *localapi.Bus) *errorRing { return &errorRing{bus: bus} }

// wrap returns log with every warning and error also kept in the ring,
// whatever log's level.
func (r *errorRing) wrap(log *slog.Logger) *slog.Logger {
	return slog.New(&ringHandler{r: r, next: log.Handler()})
}

// add keeps e, dropping the oldest beyond errorRingSize.
func (r *errorRing) add(e localapi.Error) {
	r.mu.Lock()
	if len(r.buf) == errorRingSize {
		copy(r.buf, r.buf[1:])
		r.buf = r.buf[:errorRingSize-1]
	}
	r.buf = append(r.buf, e)
	lost := r.lost
	r.mu.Unlock()
	r.bus.Publish(localapi.Event{Time: e.Time, Type: localapi.EventError, Folder: e.Folder, Path: e.Path, Text: e.Message})
	if lost != nil && strings.HasPrefix(e.Message, trackerLostMsg) {
		lost()
	}
}

// trackerLostMsg begins the tracker client's warning when its connection
// ends (tracker.Client.Run).
const trackerLostMsg = "tracker connection lost"

// onTrackerLost sets the callback for the tracker client's "connection
// lost" warning.
func (r *errorRing) onTrackerLost(f func()) {
	r.mu.Lock()
	r.lost = f
	r.mu.Unlock()
}

// list returns the kept errors, oldest first.
func (r *errorRing) list() []localapi.Error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]localapi.Error(nil), r.buf...)
}

// ringHandler is the slog.Handler of errorRing.wrap.
type ringHandler struct {
	r     *errorRing
	next  slog.Handler
	attrs []slog.Attr
}

func (h *ringHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *ringHandler) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelWarn {
		h.r.add(h.entry(rec))
	}
	if h.next.Enabled(ctx, rec.Level) {
		return h.next.Handle(ctx, rec)
	}
	return nil
}

// entry turns rec into a kept error: its message and attributes ("path"
// and "folder" in their own fields).
func (h *ringHandler) entry(rec slog.Record) localapi.Error {
	e := localapi.Error{Time: rec.Time.UTC(), Message: rec.Message}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	var b strings.Builder
	b.WriteString(rec.Message)
	add := func(a slog.Attr) bool {
		switch a.Key {
		case "path":
			e.Path = a.Value.String()
		case "folder":
			e.Folder = a.Value.String()
		default:
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Any())
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	rec.Attrs(add)
	e.Message = b.String()
	if len(e.Message) > maxErrorText {
		e.Message = e.Message[:maxErrorText] + "…"
	}
	return e
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &ringHandler{r: h.r, next: h.next.WithAttrs(as), attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	return &ringHandler{r: h.r, next: h.next.WithGroup(name), attrs: h.attrs}
}
