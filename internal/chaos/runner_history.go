package chaos

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/zeebo/blake3"
)

// Event is one line of the History: a workload step, a fault, a heal or a
// check, with its time since the start of the run.
type Event struct {
	At   time.Duration
	Who  string // "peer2" (a user's edit on peer2's folder), "nemesis", "runner"
	Kind string // "write", "rename", "delete", "kill", "restart", ...
	Path string
	To   string // a rename's target
	Hash string // the version written (hex BLAKE3), "" for other kinds
	Note string
}

func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%9.3fs %-8s %-10s", e.At.Seconds(), e.Who, e.Kind)
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	if e.To != "" {
		b.WriteString(" -> " + e.To)
	}
	if e.Hash != "" {
		b.WriteString(" " + e.Hash[:12])
	}
	if e.Note != "" {
		b.WriteString(" (" + e.Note + ")")
	}
	return b.String()
}

// Write is one version the workload wrote: every version ever written, by
// whom (the peer whose folder it was written to), when and where.
type Write struct {
	Seq    int // index in the history's events
	At     time.Duration
	Writer int // peer index
	Path   string
	Hash   string
}

// History records everything that happened in a run. It is safe for
// concurrent use (the workload's users and the nemesis append to it).
type History struct {
	start time.Time

	mu       sync.Mutex
	events   []Event
	writes   []Write
	hashes   map[string]int    // hash -> index of its first write
	contents map[string][]byte // hash -> bytes, for re-creations (bounded)
	kept     int               // bytes in contents
}

// maxKeptContent bounds the bytes the history keeps for re-creations.
const maxKeptContent = 64 << 20

// NewHistory starts a history at now.
func NewHistory() *History {
	return &History{start: time.Now(), hashes: map[string]int{}, contents: map[string][]byte{}}
}

// Hash is the hex BLAKE3 of data: a version's name in the history.
func Hash(data []byte) string {
	s := blake3.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Since is the time since the start of the run.
func (h *History) Since() time.Duration { return time.Since(h.start) }

// Add appends an event (its At is set here) and returns its index.
func (h *History) Add(e Event) int {
	e.At = h.Since()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
	return len(h.events) - 1
}

// Written records a version about to be renamed into place by the workload
// (before the rename, so that no check can see bytes the history lacks).
func (h *History) Written(writer int, who, path string, data []byte, note string) string {
	hash := Hash(data)
	e := Event{At: h.Since(), Who: who, Kind: "write", Path: path, Hash: hash, Note: note}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
	h.writes = append(h.writes, Write{Seq: len(h.events) - 1, At: e.At, Writer: writer, Path: path, Hash: hash})
	if _, ok := h.hashes[hash]; !ok {
		h.hashes[hash] = len(h.writes) - 1
		if len(data) <= 128<<10 && h.kept+len(data) <= maxKeptContent {
			h.contents[hash] = append([]byte(nil), data...)
			h.kept += len(data)
		}
	}
	return hash
}

// Known reports whether some version written by the workload has this hash.
func (h *History) Known(hash string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.hashes[hash]
	return ok
}

// Content returns the bytes of a version kept for re-creations.
func (h *History) Content(hash string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, ok := h.contents[hash]
	return b, ok
}

// FirstWriter returns the peer that first wrote this hash and when.
func (h *History) FirstWriter(hash string) (Write, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i, ok := h.hashes[hash]
	if !ok {
		return Write{}, false
	}
	return h.writes[i], true
}

// Events returns a copy of the events so far.
func (h *History) Events() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Event(nil), h.events...)
}

// Writes returns a copy of the writes so far.
func (h *History) Writes() []Write {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Write(nil), h.writes...)
}

// Dump writes every event, one a line.
func (h *History) Dump(w io.Writer) error {
	for _, e := range h.Events() {
		if _, err := fmt.Fprintln(w, e.String()); err != nil {
			return err
		}
	}
	return nil
}

// Tail returns the last n events, one a line.
func (h *History) Tail(n int) string {
	ev := h.Events()
	ev = ev[max(0, len(ev)-n):]
	lines := make([]string, len(ev))
	for i, e := range ev {
		lines[i] = e.String()
	}
	return strings.Join(lines, "\n")
}
