package main

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dartsync/dartsync/peer/localapi"
)

// statusWidth is the width `dartsync status` fits its lines in.
const statusWidth = 80

// renderStatus writes st for a reader: the device and tracker, then per
// folder its state, counts, transfers, peers and conflict copies, then the
// recent errors. Times are shown in loc, ages relative to now. Every line
// fits in statusWidth columns (long paths are shortened in the middle).
func renderStatus(w io.Writer, st localapi.Status, now time.Time, loc *time.Location) error {
	r := &renderer{now: now, loc: loc}
	r.linef("peer %s  %s  up %s", st.Short, st.Version, r.age(st.Started))
	tr := "disconnected"
	if st.Tracker.Connected {
		tr = "connected"
		if st.Tracker.Transport != "" {
			tr += " over " + st.Tracker.Transport
		}
	}
	if !st.Tracker.Since.IsZero() {
		tr += " since " + r.clock(st.Tracker.Since)
	}
	r.linef("tracker %s  %s", cmp.Or(st.Tracker.Addr, "(looking on the local network)"), tr)
	r.limits(st.Limits)
	for _, f := range st.Folders {
		r.folder(st, f)
	}
	r.errors(st.Errors)
	_, err := io.WriteString(w, r.b.String())
	return err
}

type renderer struct {
	b   strings.Builder
	now time.Time
	loc *time.Location
}

// linef writes one line, cut to statusWidth.
func (r *renderer) linef(format string, args ...any) {
	r.b.WriteString(cut(fmt.Sprintf(format, args...), statusWidth))
	r.b.WriteByte('\n')
}

func (r *renderer) folder(st localapi.Status, f localapi.Folder) {
	name := f.Name
	if name == "" {
		name = "(default)"
	}
	r.linef("")
	r.linef("folder %s  %s", name, shortenMiddle(f.Path, statusWidth-len("folder ")-len(name)-2))
	state := f.State
	switch {
	case f.Reason != "":
		state += ": " + f.Reason
	case f.State == localapi.StateScanning:
		state += fmt.Sprintf(": %d files, %s read so far", f.ScanFiles, humanBytes(float64(f.ScanBytes)))
	}
	r.wrapped("  state      ", state)
	r.linef("  in sync    %d of %d files, %s of %s", f.FilesInSync, f.Files,
		humanBytes(float64(f.BytesInSync)), humanBytes(float64(f.Bytes)))
	if f.Wants > 0 {
		r.linef("  waiting    %d versions to fetch or apply", f.Wants)
	}
	r.linef("  last scan  %s   last change %s", r.when(f.LastScan), r.when(f.LastChange))
	var ts []localapi.Transfer
	for _, t := range st.Transfers {
		if t.Folder == f.Name {
			ts = append(ts, t)
		}
	}
	if len(ts) > 0 {
		r.linef("  transfers  %d now", len(ts))
		for _, t := range ts {
			r.transfer(t)
		}
	}
	r.peers(st.Peers, f.Name)
	var cs []localapi.Conflict
	for _, c := range st.Conflicts {
		if c.Folder == f.Name {
			cs = append(cs, c)
		}
	}
	if len(cs) > 0 {
		r.linef("  conflicts  %s (compare each with its original, keep one)", plural(len(cs), "unresolved copy"))
		for _, c := range cs {
			r.linef("    %s", shortenMiddle(c.Path, statusWidth-4))
			r.linef("      copy of %s", shortenMiddle(c.Original, statusWidth-14))
		}
	}
}

// transfer writes one transfer: its path, then bytes, percent, rate, ETA.
func (r *renderer) transfer(t localapi.Transfer) {
	pct := 0.0
	if t.Size > 0 {
		pct = 100 * float64(t.Done) / float64(t.Size)
	}
	r.linef("    %s", shortenMiddle(t.Path, statusWidth-4))
	rate := "?"
	if t.Rate > 0 {
		rate = humanBytes(t.Rate) + "/s"
	}
	r.linef("      %s of %s  %3.0f%%  %s  ETA %s  from %s", humanBytes(float64(t.Done)),
		humanBytes(float64(t.Size)), pct, rate, etaText(t.ETA), plural(t.Sources, "peer"))
}

func (r *renderer) peers(ps []localapi.Peer, folder string) {
	var mine []localapi.Peer
	online := 0
	for _, p := range ps {
		for _, f := range p.Folders {
			if f == folder {
				mine = append(mine, p)
				if p.Online {
					online++
				}
				break
			}
		}
	}
	r.linef("  peers      %d online", online)
	for _, p := range mine {
		if p.Online {
			r.linef("    %-8s %-24s online%s", p.Short, shortenMiddle(p.Addr, 24), over(p.Transport))
		} else {
			r.linef("    %-8s %-24s offline, last seen %s", p.Short, shortenMiddle(p.Addr, 24), r.when(p.LastSeen))
		}
	}
}

func (r *renderer) errors(es []localapi.Error) {
	if len(es) == 0 {
		return
	}
	const show = 5
	r.linef("")
	r.linef("recent errors (%d, newest last)", len(es))
	if len(es) > show {
		es = es[len(es)-show:]
	}
	for _, e := range es {
		msg := e.Message
		if e.Path != "" {
			msg = e.Path + ": " + msg
		}
		r.wrapped("  "+r.clock(e.Time)+"  ", msg)
	}
}

// wrapped writes prefix and text, text wrapped at word boundaries below
// the prefix's width (at most 3 lines; the rest is cut).
func (r *renderer) wrapped(prefix, text string) {
	indent := strings.Repeat(" ", utf8.RuneCountInString(prefix))
	room := statusWidth - len(indent)
	lines := wrapText(text, room)
	if len(lines) > 3 {
		lines = lines[:3]
		lines[2] = cut(lines[2]+" …", room)
	}
	for i, l := range lines {
		if i == 0 {
			r.linef("%s%s", prefix, l)
		} else {
			r.linef("%s%s", indent, l)
		}
	}
}

// clock formats t as a time of day today, else with its date.
func (r *renderer) clock(t time.Time) string {
	t, now := t.In(r.loc), r.now.In(r.loc)
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

// when formats t with its age when it is today ("never" for zero).
func (r *renderer) when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	c := r.clock(t)
	if len(c) > len("15:04:05") {
		return c
	}
	return c + " (" + r.age(t) + " ago)"
}

// age is how long ago t was, coarsely ("4s", "3m", "2h5m", "3d").
func (r *renderer) age(t time.Time) string {
	d := r.now.Sub(t)
	switch {
	case t.IsZero():
		return "?"
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(int(d.Seconds()), 0))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// plural is "1 peer", "2 peers" ("copy": "copies").
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(what, "y"))
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// wrapText splits s into lines of at most n runes, at spaces where it can.
func wrapText(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		rs := []rune(s)
		i := n
		for i > n/2 && rs[i] != ' ' {
			i--
		}
		if rs[i] != ' ' {
			i = n
		}
		out = append(out, strings.TrimRight(string(rs[:i]), " "))
		s = strings.TrimLeft(string(rs[i:]), " ")
	}
	return append(out, s)
}

// cut returns s cut to n runes.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// shortenMiddle returns s in at most n runes, the middle replaced by "…".
func shortenMiddle(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n || n < 5 {
		return cut(s, max(n, 0))
	}
	head := (n - 1) / 2
	tail := n - 1 - head
	return string(rs[:head]) + "…" + string(rs[len(rs)-tail:])
}

// over names the transport of a peer's connections ("" when none).
func over(transport string) string {
	if transport == "" {
		return ""
	}
	return ", " + transport
}
