package tracker

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	id := newTestIdentity(t)
	tok, err := NewToken(id.ID, bytes.NewReader(bytes.Repeat([]byte{7}, SecretSize)))
	if err != nil {
		t.Fatal(err)
	}
	s := tok.String()
	got, err := ParseToken("  " + strings.ToLower(s[:0]) + s + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if got != tok {
		t.Fatalf("round trip: %v != %v", got, tok)
	}
	// secret in lower case is accepted
	dev, sec, _ := strings.Cut(s, ":")
	if got, err := ParseToken(dev + ":" + strings.ToLower(sec)); err != nil || got != tok {
		t.Fatalf("lower-case secret: %v %v", got, err)
	}
}

func TestParseTokenErrors(t *testing.T) {
	id := newTestIdentity(t)
	tok, _ := NewToken(id.ID, bytes.NewReader(make([]byte, SecretSize)))
	good := tok.String()
	dev, sec, _ := strings.Cut(good, ":")
	tests := []struct {
		name, in string
		wantErr  error
	}{
		{"empty", "", ErrBadToken},
		{"no colon", dev + sec, ErrBadToken},
		{"bad device", "!" + good[1:], ErrBadToken},
		{"short secret", dev + ":" + sec[:10], ErrBadToken},
		{"long secret", dev + ":" + sec + "AAAAAAAA", ErrBadToken},
		{"non-base32 secret", dev + ":" + strings.Repeat("1", len(sec)), ErrBadToken},
		{"good", good, nil},
	}
	for _, tt := range tests {
		_, err := ParseToken(tt.in)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestSecretMatches(t *testing.T) {
	var want [SecretSize]byte
	want[3] = 9
	if !secretMatches(want, want[:]) || secretMatches(want, make([]byte, SecretSize)) || secretMatches(want, want[:8]) {
		t.Fatal("secretMatches wrong")
	}
}
