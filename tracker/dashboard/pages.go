package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker"
)

// templateFS holds the page templates (go:embed needs a package variable;
// it is read-only).
//
//go:embed templates/*.html
var templateFS embed.FS

// pages are the parsed templates by page name.
type pages struct{ t map[string]*template.Template }

func parsePages() (*pages, error) {
	funcs := template.FuncMap{"bytes": humanBytes, "ago": ago, "when": when}
	p := &pages{t: map[string]*template.Template{}}
	// each page is templates/NAME.html with layout.html and tables.html
	for _, n := range []string{"login", "overview", "devices", "folders", "changes", "conflicts"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/tables.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard: template %s: %w", n, err)
		}
		p.t[n] = t
	}
	return p, nil
}

// data is what every page template gets.
type data struct {
	Title    string
	Page     string
	LoggedIn bool
	Now      time.Time
	Version  string
	Tracker  string
	Totals   tracker.Totals
	Refresh  int // seconds; 0 = none

	Devices   []tracker.DeviceStatus
	Folders   []tracker.FolderStatus
	Changes   []tracker.ChangeRecord
	Conflicts []tracker.ConflictCopy
	More      int                          // conflict copies not listed
	Names     map[identity.DeviceID]string // device names, for the changes and conflicts

	Next, Error string // the login form
}

func (h *Handler) base(page, title string) *data {
	return &data{Title: title, Page: page, LoggedIn: true, Now: h.cfg.Now(), Version: h.cfg.Version,
		Tracker: h.cfg.Source.ID().Short(), Refresh: 10}
}

// pageData reads from the source what page shows.
func (h *Handler) pageData(page string) *data {
	src := h.cfg.Source
	var d *data
	switch page {
	case "overview":
		d = h.base(page, "Overview")
		d.Devices, d.Folders = src.Devices(), src.Folders()
		d.Changes = src.RecentChanges()
		d.Changes = d.Changes[:min(len(d.Changes), 10)]
	case "devices":
		d = h.base(page, "Devices")
		d.Devices = src.Devices()
	case "folders":
		d = h.base(page, "Folders")
		d.Folders = src.Folders()
	case "changes":
		d = h.base(page, "Recent changes")
		d.Changes = src.RecentChanges()
	case "conflicts":
		d = h.base(page, "Conflict copies")
		var total int
		d.Conflicts, total = src.ConflictCopies(MaxConflictsShown)
		d.More = total - len(d.Conflicts)
	default:
		d = h.base(page, page)
	}
	if len(d.Changes) > 0 || len(d.Conflicts) > 0 {
		if d.Devices == nil {
			d.Devices = src.Devices()
		}
		d.Names = map[identity.DeviceID]string{}
		for _, dv := range d.Devices {
			d.Names[dv.ID] = dv.Name
		}
	}
	d.Totals = src.Totals()
	return d
}

func (h *Handler) loginData(next, msg string) *data {
	return &data{Title: "Log in", Page: "login", Now: h.cfg.Now(), Version: h.cfg.Version,
		Tracker: h.cfg.Source.ID().Short(), Next: localPath(next), Error: msg}
}

// render executes page into a buffer first, so that a template error is a
// clean 500 and never half a page.
func (h *Handler) render(w http.ResponseWriter, status int, page string, d *data) {
	var buf bytes.Buffer
	if err := h.pages.t[page].Execute(&buf, d); err != nil {
		h.log.Error("dashboard: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// humanBytes writes n in binary units ("1.5 MiB").
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// ago writes how long before now t was ("3 min ago"); "never" for zero.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// when writes t as a UTC timestamp for a title attribute.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
