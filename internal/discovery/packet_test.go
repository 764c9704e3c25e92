package discovery

import (
	"crypto/ed25519"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

func testKey(t testing.TB, seed byte) ed25519.PrivateKey {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	return ed25519.NewKeyFromSeed(s)
}

func TestAnnouncementRoundTrip(t *testing.T) {
	key := testKey(t, 1)
	when := time.UnixMilli(1_800_000_000_123)
	for _, addr := range []string{"10.1.2.7:7000", "[fd00::7]:7000"} {
		ap := netip.MustParseAddrPort(addr)
		b, err := EncodeAnnouncement(key, ap, when)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > MaxPacket {
			t.Fatalf("%s: %d bytes over MaxPacket", addr, len(b))
		}
		a, err := DecodeAnnouncement(b)
		if err != nil {
			t.Fatal(err)
		}
		want := identity.NewDeviceID(key.Public().(ed25519.PublicKey))
		if a.Device != want || a.Addr != ap || !a.Time.Equal(when) {
			t.Fatalf("decoded %+v, want device %s addr %s time %v", a, want.Short(), ap, when)
		}
	}
}

func TestQueryRoundTrip(t *testing.T) {
	id := identity.NewDeviceID(testKey(t, 2).Public().(ed25519.PublicKey))
	got, err := DecodeQuery(EncodeQuery(id))
	if err != nil || got != id {
		t.Fatalf("DecodeQuery = %v, %v; want %s", got.Short(), err, id.Short())
	}
}

func TestDecodeAnnouncementRejects(t *testing.T) {
	key, other := testKey(t, 1), testKey(t, 3)
	good, err := EncodeAnnouncement(key, netip.MustParseAddrPort("10.0.0.1:7000"), time.UnixMilli(1000))
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	// an announcement that claims key's device but is signed by other
	forged := mod(func(b []byte) []byte {
		body := b[:len(b)-ed25519.SignatureSize]
		return append(body, ed25519.Sign(other, signed(body))...)
	})
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"good", good, nil},
		{"empty", nil, ErrMalformed},
		{"wrong magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), ErrMalformed},
		{"unknown kind", mod(func(b []byte) []byte { b[4] = 9; return b }), ErrMalformed},
		{"query kind", EncodeQuery(identity.DeviceID{}), ErrMalformed},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"trailing byte", append(append([]byte(nil), good...), 0), ErrMalformed},
		{"over MaxPacket", make([]byte, MaxPacket+1), ErrMalformed},
		{"address length 5", mod(func(b []byte) []byte { b[headerLen+42] = 5; return b }), ErrMalformed},
		{"port 0", mod(func(b []byte) []byte { b[headerLen+40], b[headerLen+41] = 0, 0; return b }), ErrMalformed},
		{"port changed", mod(func(b []byte) []byte { b[headerLen+41]++; return b }), ErrBadSignature},
		{"address changed", mod(func(b []byte) []byte { b[headerLen+46]++; return b }), ErrBadSignature},
		{"time changed", mod(func(b []byte) []byte { b[headerLen+39]++; return b }), ErrBadSignature},
		{"signed by another key", forged, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeAnnouncement(tt.b)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEncodeAnnouncementRefuses(t *testing.T) {
	key := testKey(t, 1)
	tests := []struct {
		name string
		key  ed25519.PrivateKey
		addr string
		when time.Time
	}{
		{"short key", key[:10], "10.0.0.1:7000", time.Now()},
		{"port 0", key, "10.0.0.1:0", time.Now()},
		{"before 1970", key, "10.0.0.1:7000", time.Unix(-10, 0)},
	}
	for _, tt := range tests {
		if _, err := EncodeAnnouncement(tt.key, netip.MustParseAddrPort(tt.addr), tt.when); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

// BenchmarkDecodeAnnouncement: what one announcement costs a listening
// peer (mostly the Ed25519 verification).
func BenchmarkDecodeAnnouncement(b *testing.B) {
	pkt, err := EncodeAnnouncement(testKey(b, 1), netip.MustParseAddrPort("10.0.0.1:7000"), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := DecodeAnnouncement(pkt); err != nil {
			b.Fatal(err)
		}
	}
}
