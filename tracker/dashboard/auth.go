package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// CookieName is the session cookie's name.
const CookieName = "dartsync_admin"

// maxLimiters bounds the per-address login limiters kept; past it they are
// forgotten all at once (an attacker with that many addresses gains a burst).
const maxLimiters = 4096

// auth checks the admin secret and the session cookies.
type auth struct {
	secret []byte // the admin secret as typed
	key    []byte // HMAC key of the cookies, derived from the secret
	ttl    time.Duration
	now    func() time.Time

	every rate.Limit
	burst int

	mu            sync.Mutex
	limiters      map[string]*rate.Limiter // by client address
	revokedBefore int64                    // cookies issued before this (ns) are void
}

func newAuth(secret string, ttl time.Duration, every rate.Limit, burst int, now func() time.Time) *auth {
	k := sha256.Sum256([]byte("dartsync dashboard cookie v1\x00" + secret))
	return &auth{secret: []byte(secret), key: k[:], ttl: ttl, now: now, every: every, burst: burst,
		limiters: map[string]*rate.Limiter{}}
}

// allow takes one login attempt from the client at remote (host:port).
func (a *auth) allow(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.limiters[host]
	if l == nil {
		if len(a.limiters) >= maxLimiters {
			clear(a.limiters)
		}
		l = rate.NewLimiter(a.every, a.burst)
		a.limiters[host] = l
	}
	return l.AllowN(a.now(), 1)
}

// matches compares a typed secret with the admin secret in constant time.
func (a *auth) matches(typed string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(typed)), a.secret) == 1
}

// issue returns a new session cookie.
func (a *auth) issue() *http.Cookie {
	now := a.now()
	exp := now.Add(a.ttl)
	body := "v1." + strconv.FormatInt(now.UnixNano(), 10) + "." + strconv.FormatInt(exp.Unix(), 10)
	return &http.Cookie{
		Name: CookieName, Value: body + "." + a.sign(body), Path: "/",
		Expires: exp, MaxAge: int(a.ttl / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	}
}

func (a *auth) sign(body string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// valid reports whether r carries a session cookie that is signed, not
// expired and not revoked; err says why not.
func (a *auth) valid(r *http.Request) error {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return fmt.Errorf("no session cookie")
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 4 || parts[0] != "v1" {
		return fmt.Errorf("malformed session cookie")
	}
	body := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(parts[3]), []byte(a.sign(body))) {
		return fmt.Errorf("session cookie not signed by this tracker")
	}
	issued, err1 := strconv.ParseInt(parts[1], 10, 64)
	exp, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("malformed session cookie")
	}
	if a.now().Unix() >= exp {
		return fmt.Errorf("session expired")
	}
	a.mu.Lock()
	revoked := issued < a.revokedBefore
	a.mu.Unlock()
	if revoked {
		return fmt.Errorf("logged out")
	}
	return nil
}

// revoke voids every cookie issued so far.
func (a *auth) revoke() {
	a.mu.Lock()
	a.revokedBefore = a.now().UnixNano() + 1
	a.mu.Unlock()
}

// cleared is the cookie that removes the session cookie from a browser.
func cleared() *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode}
}
