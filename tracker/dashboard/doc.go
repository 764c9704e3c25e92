// Package dashboard is the tracker's web dashboard: a few server-rendered
// pages (html/template, templates embedded in the binary, a little inline
// CSS, no script, no external assets) that show what a tracker knows, and the
// tracker's Prometheus metrics.
//
// Terms:
//
//   - Source: what the dashboard reads the tracker through (a
//     *tracker.Server implements it). Every method answers from totals the
//     tracker keeps up to date as it commits, never by scanning its files
//     table, so a page costs the same with 100 000 files as with ten.
//   - Admin secret: a random secret of its own (not the join token's), in
//     the file admin.secret (0600) in the tracker's state directory, created
//     at the first start (LoadOrCreateSecret). It is never logged. Whoever
//     reads the file may see the dashboard.
//   - Session cookie: what the login form sets once the admin secret was
//     typed: "v1.<issued ns>.<expiry s>.<HMAC-SHA256>", keyed by a key derived
//     from the admin secret, HttpOnly, SameSite=Strict, valid for
//     Config.SessionTTL. Logging out ends every session issued before it.
//   - Login limit: login attempts are rate-limited per client address
//     (golang.org/x/time/rate); past it the form answers 429.
//
// Routes: GET / (overview), /devices, /folders, /changes, /conflicts (each
// needs the session cookie; without it they redirect to /login), GET and
// POST /login, POST /logout, and without the secret GET /metrics (the
// Prometheus text format) and GET /healthz ("ok").
package dashboard
