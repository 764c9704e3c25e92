package discovery

import (
	"errors"
	"testing"
)

// FuzzDecode: any packet decodes to a valid announcement or query, or to
// an error wrapping ErrMalformed or ErrBadSignature; never a panic.
// Seeds: testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAnnouncement(b)
		switch {
		case err == nil:
			if !a.Addr.IsValid() || a.Addr.Port() == 0 || len(a.Key) != 32 {
				t.Fatalf("accepted announcement %+v", a)
			}
			if len(b) > MaxPacket {
				t.Fatalf("accepted %d bytes", len(b))
			}
		case !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature):
			t.Fatalf("unexpected error %v", err)
		}
		// the cheap filter agrees with the full decoder
		dev, derr := AnnouncedDevice(b)
		if err == nil && (derr != nil || dev != a.Device) {
			t.Fatalf("AnnouncedDevice = %v, %v; DecodeAnnouncement took device %v", dev, derr, a.Device)
		}
		if derr != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("AnnouncedDevice refused (%v) what DecodeAnnouncement did not call malformed (%v)", derr, err)
		}
		if _, err := DecodeQuery(b); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("query: unexpected error %v", err)
		}
	})
}
