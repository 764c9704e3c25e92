package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of device ID parsing; see the package documentation.
var (
	ErrBadDeviceID = errors.New("invalid device ID")
	ErrBadCheck    = errors.New("device ID check character mismatch (typo?)")
)

// DeviceID identifies a node: SHA-256 of its raw Ed25519 public key.
type DeviceID [32]byte

const (
	luhnAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	blockLen     = 13 // base32 characters per check block
	blocks       = 4
	groupLen     = 7
	plainLen     = blockLen * blocks       // 52
	checkedLen   = (blockLen + 1) * blocks // 56
	// StringLen is the length of DeviceID.String(): 8 groups of 7 and 7 dashes.
	StringLen = checkedLen + checkedLen/groupLen - 1
	// ShortLen is the length of DeviceID.Short().
	ShortLen = groupLen
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewDeviceID returns the device ID of an Ed25519 public key.
func NewDeviceID(pub ed25519.PublicKey) DeviceID {
	return DeviceID(sha256.Sum256(pub))
}

// String returns the dashed, check-charactered form described in the package
// documentation.
func (d DeviceID) String() string {
	plain := b32.EncodeToString(d[:])
	var checked [checkedLen]byte
	for i := range blocks {
		blk := plain[i*blockLen : (i+1)*blockLen]
		o := i * (blockLen + 1)
		copy(checked[o:], blk)
		checked[o+blockLen] = luhnCheck(blk)
	}
	var sb strings.Builder
	sb.Grow(StringLen)
	for i := 0; i < checkedLen; i += groupLen {
		if i > 0 {
			sb.WriteByte('-')
		}
		sb.Write(checked[i : i+groupLen])
	}
	return sb.String()
}

// Short returns the first ShortLen characters of String().
func (d DeviceID) Short() string {
	return d.String()[:ShortLen]
}

// IsZero reports whether d is the zero value (no device).
func (d DeviceID) IsZero() bool { return d == DeviceID{} }

// Compare orders device IDs by their bytes: -1, 0 or +1.
func (d DeviceID) Compare(o DeviceID) int { return bytes.Compare(d[:], o[:]) }

// MarshalText implements encoding.TextMarshaler with String().
func (d DeviceID) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseDeviceID.
func (d *DeviceID) UnmarshalText(b []byte) error {
	id, err := ParseDeviceID(string(b))
	if err != nil {
		return err
	}
	*d = id
	return nil
}

// ParseDeviceID parses the form written by String. Case, dashes and spaces
// are ignored; 0, 1 and 8 are read as O, I and B. A wrong check character is
// reported with ErrBadCheck, anything else malformed with ErrBadDeviceID.
func ParseDeviceID(s string) (DeviceID, error) {
	var d DeviceID
	var buf [checkedLen]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c == '0':
			c = 'O'
		case c == '1':
			c = 'I'
		case c == '8':
			c = 'B'
		}
		if strings.IndexByte(luhnAlphabet, c) < 0 {
			return d, fmt.Errorf("%w: character %q at offset %d is not base32", ErrBadDeviceID, s[i], i)
		}
		if n == checkedLen {
			return d, fmt.Errorf("%w: more than %d characters", ErrBadDeviceID, checkedLen)
		}
		buf[n] = c
		n++
	}
	if n != checkedLen {
		return d, fmt.Errorf("%w: %d characters, want %d (without dashes)", ErrBadDeviceID, n, checkedLen)
	}
	var plain [plainLen]byte
	for i := range blocks {
		o := i * (blockLen + 1)
		blk := buf[o : o+blockLen]
		if got, want := buf[o+blockLen], luhnCheck(string(blk)); got != want {
			return d, fmt.Errorf("%w: block %d (characters %d-%d) ends in %q, want %q",
				ErrBadCheck, i+1, o+1, o+blockLen+1, got, want)
		}
		copy(plain[i*blockLen:], blk)
	}
	n, err := b32.Decode(d[:], plain[:])
	if err != nil || n != len(d) || b32.EncodeToString(d[:]) != string(plain[:]) {
		// 52 base32 characters carry 260 bits; the last 4 must be zero.
		return DeviceID{}, fmt.Errorf("%w: not a canonical encoding of 32 bytes", ErrBadDeviceID)
	}
	return d, nil
}

// luhnCheck returns the Luhn mod 32 check character of s (all characters in
// luhnAlphabet): from the right, every other code point starting with the
// rightmost is doubled, digits of the doubled value in base 32 are summed.
func luhnCheck(s string) byte {
	const n = len(luhnAlphabet)
	factor := 2
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		addend := factor * strings.IndexByte(luhnAlphabet, s[i])
		factor = 3 - factor
		sum += addend/n + addend%n
	}
	return luhnAlphabet[(n-sum%n)%n]
}
