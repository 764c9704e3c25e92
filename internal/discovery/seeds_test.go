package discovery

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dartsync/dartsync/internal/identity"
)

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzDecode when
// DARTSYNC_WRITE_SEEDS=1 (the committed seeds are its output).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("DARTSYNC_WRITE_SEEDS") != "1" {
		t.Skip("set DARTSYNC_WRITE_SEEDS=1 to rewrite the seeds")
	}
	key := testKey(t, 1)
	v4, err := EncodeAnnouncement(key, netip.MustParseAddrPort("192.168.1.20:7000"), time.UnixMilli(1_800_000_000_000))
	if err != nil {
		t.Fatal(err)
	}
	v6, err := EncodeAnnouncement(key, netip.MustParseAddrPort("[fd00::20]:7000"), time.UnixMilli(1_800_000_000_000))
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"announcement-v4": v4,
		"announcement-v6": v6,
		"query-any":       EncodeQuery(identity.DeviceID{}),
		"query-device":    EncodeQuery(identity.DeviceID{1, 2, 3}),
		"truncated":       v4[:40],
		"bad-kind":        append([]byte("DSD1"), 7),
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
