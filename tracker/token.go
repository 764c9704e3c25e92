package tracker

import (
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"io"
	"strings"

	"github.com/dartsync/dartsync/internal/identity"
)

// SecretSize is the length of the join secret in bytes (128 bits).
const SecretSize = 16

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Token is what a device needs to join a tracker: the tracker's device ID,
// which the device pins, and the secret it proves once.
type Token struct {
	Tracker identity.DeviceID
	Secret  [SecretSize]byte
}

// NewToken returns a token for tracker with a secret read from rnd
// (crypto/rand.Reader in production).
func NewToken(tracker identity.DeviceID, rnd io.Reader) (Token, error) {
	t := Token{Tracker: tracker}
	if _, err := io.ReadFull(rnd, t.Secret[:]); err != nil {
		return Token{}, fmt.Errorf("tracker: generate join secret: %w", err)
	}
	return t, nil
}

// String returns "<tracker device ID>:<base32 secret>", the one line printed
// by the tracker and pasted by the user.
func (t Token) String() string {
	return t.Tracker.String() + ":" + secretEncoding.EncodeToString(t.Secret[:])
}

// ParseToken parses the form produced by String. Surrounding white space is
// ignored and the secret may be in lower case. Errors wrap ErrBadToken.
func ParseToken(s string) (Token, error) {
	s = strings.TrimSpace(s)
	id, sec, ok := strings.Cut(s, ":")
	if !ok {
		return Token{}, fmt.Errorf("%w: want <tracker device ID>:<secret>, no ':' found", ErrBadToken)
	}
	var t Token
	var err error
	if t.Tracker, err = identity.ParseDeviceID(id); err != nil {
		return Token{}, fmt.Errorf("%w: tracker device ID: %w", ErrBadToken, err)
	}
	b, err := secretEncoding.DecodeString(strings.ToUpper(sec))
	if err != nil {
		return Token{}, fmt.Errorf("%w: secret is not base32: %v", ErrBadToken, err)
	}
	if len(b) != SecretSize {
		return Token{}, fmt.Errorf("%w: secret is %d bytes, want %d", ErrBadToken, len(b), SecretSize)
	}
	copy(t.Secret[:], b)
	return t, nil
}

// secretMatches compares a presented secret with the tracker's in constant time.
func secretMatches(want [SecretSize]byte, got []byte) bool {
	return len(got) == SecretSize && subtle.ConstantTimeCompare(want[:], got) == 1
}
