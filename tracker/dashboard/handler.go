package dashboard

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/dartsync/dartsync/internal/identity"
	"github.com/dartsync/dartsync/tracker"
)

// Source is what the dashboard reads of the tracker (*tracker.Server is
// one). Every method must be cheap whatever the number of files (the
// tracker answers from totals it keeps), safe for concurrent use, and
// return values the caller may keep.
type Source interface {
	ID() identity.DeviceID
	Totals() tracker.Totals
	Devices() []tracker.DeviceStatus
	Folders() []tracker.FolderStatus
	RecentChanges() []tracker.ChangeRecord // newest first
	ConflictCopies(limit int) (copies []tracker.ConflictCopy, total int)
	MetricsHandler() http.Handler
}

// Defaults for zero Config fields.
const (
	DefaultSessionTTL = 12 * time.Hour
	DefaultLoginEvery = 2 * time.Second // one more login attempt per this, per client address
	DefaultLoginBurst = 5
	// MaxConflictsShown bounds the conflict copies listed on one page.
	MaxConflictsShown = 500
)

// Config configures a dashboard.
type Config struct {
	Source     Source
	Secret     string        // the admin secret (LoadOrCreateSecret); required
	Version    string        // the tracker's version, shown in the footer
	SessionTTL time.Duration // how long a login lasts (DefaultSessionTTL)
	LoginEvery time.Duration // login attempts refill one per this (DefaultLoginEvery)
	LoginBurst int           // login attempts allowed at once (DefaultLoginBurst)
	Log        *slog.Logger  // nil discards
	Now        func() time.Time
}

// Handler serves the dashboard.
type Handler struct {
	cfg   Config
	auth  *auth
	pages *pages
	mux   *http.ServeMux
	log   *slog.Logger
}

// New returns the dashboard's handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Source == nil {
		return nil, errors.New("dashboard: no source")
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("dashboard: admin secret missing or too short")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.LoginEvery <= 0 {
		cfg.LoginEvery = DefaultLoginEvery
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = DefaultLoginBurst
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, pages: p, log: cfg.Log, mux: http.NewServeMux(),
		auth: newAuth(cfg.Secret, cfg.SessionTTL, rate.Every(cfg.LoginEvery), cfg.LoginBurst, cfg.Now)}
	h.mux.Handle("GET /metrics", cfg.Source.MetricsHandler())
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	h.mux.HandleFunc("GET /login", h.loginForm)
	h.mux.HandleFunc("POST /login", h.login)
	h.mux.HandleFunc("POST /logout", h.logout)
	for path, page := range map[string]string{"/{$}": "overview", "/devices": "devices", "/folders": "folders",
		"/changes": "changes", "/conflicts": "conflicts"} {
		h.mux.HandleFunc("GET "+path, h.authed(page))
	}
	return h, nil
}

// ServeHTTP serves one request with the dashboard's security headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// authed serves page to a logged-in browser; anyone else is sent to the
// login form, which brings them back.
func (h *Handler) authed(page string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h.auth.valid(r); err != nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		h.render(w, http.StatusOK, page, h.pageData(page))
	}
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "login", h.loginData(r.URL.Query().Get("next"), ""))
}

// login checks the typed secret: right, it sets the session cookie and
// sends the browser on; wrong, the form again (401); too many attempts, 429.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if !h.auth.allow(r.RemoteAddr) {
		h.log.Warn("dashboard login attempts over the limit", "remote", r.RemoteAddr)
		w.Header().Set("Retry-After", "10")
		h.render(w, http.StatusTooManyRequests, "login", h.loginData(r.FormValue("next"), "Too many attempts: wait a few seconds."))
		return
	}
	if err := r.ParseForm(); err != nil {
		h.render(w, http.StatusBadRequest, "login", h.loginData("", "Bad form."))
		return
	}
	next := r.PostForm.Get("next")
	if !h.auth.matches(r.PostForm.Get("secret")) {
		h.log.Info("dashboard login refused: wrong admin secret", "remote", r.RemoteAddr)
		h.render(w, http.StatusUnauthorized, "login", h.loginData(next, "Wrong admin secret."))
		return
	}
	h.log.Info("dashboard login", "remote", r.RemoteAddr)
	http.SetCookie(w, h.auth.issue())
	http.Redirect(w, r, localPath(next), http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if h.auth.valid(r) == nil {
		h.auth.revoke()
	}
	http.SetCookie(w, cleared())
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// localPath returns next if it is a path of this site, else "/".
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}
