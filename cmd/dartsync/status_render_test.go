package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dartsync/dartsync/peer/localapi"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/status")

// statusNow is the time the golden renderings are made at.
var statusNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return statusNow.Add(-d) }

func baseStatus() localapi.Status {
	return localapi.Status{
		Version: "v0.9.0", Device: "AAAAAAA-BBBBBBB-CCCCCCC", Short: "AAAAAAA", StateDir: "/home/me/.local/state/dartsync",
		Started: ago(2*time.Hour + 5*time.Minute),
		Tracker: localapi.Tracker{Addr: "pi.local:7000", Connected: true, Since: ago(2 * time.Hour)},
	}
}

// TestRenderStatus: golden renderings of `dartsync status` (testdata/status;
// go test -run TestRenderStatus -update rewrites them). Every line fits in
// 80 columns.
func TestRenderStatus(t *testing.T) {
	long := strings.Repeat("very long directory name/", 6) + "holiday video.mkv"
	tests := []struct {
		name string
		st   func() localapi.Status
	}{
		{"idle", func() localapi.Status {
			s := baseStatus()
			s.Folders = []localapi.Folder{{Path: "/home/me/sync", State: localapi.StateIdle, Files: 1200, FilesInSync: 1200,
				Bytes: 3 << 30, BytesInSync: 3 << 30, LastScan: ago(40 * time.Second), LastChange: ago(3 * time.Hour)}}
			s.Peers = []localapi.Peer{{Device: "DDDDDDD-X", Short: "DDDDDDD", Addr: "192.168.1.20:7001", Online: true, LastSeen: statusNow, Folders: []string{""}}}
			return s
		}},
		{"syncing", func() localapi.Status {
			s := baseStatus()
			s.Tracker.Transport = "tcp"
			s.Folders = []localapi.Folder{{Path: "/home/me/sync", State: localapi.StateSyncing, Files: 1203, FilesInSync: 1200,
				Bytes: 4 << 30, BytesInSync: 3 << 30, Wants: 3, LastScan: ago(40 * time.Second), LastChange: ago(5 * time.Second)}}
			s.Transfers = []localapi.Transfer{
				{Path: "videos/" + long, Size: 900 << 20, Done: 300 << 20, Rate: 12 << 20, ETA: 50, Sources: 2, Started: ago(25 * time.Second)},
				{Path: "notes.txt", Size: 1000, Done: 0, Sources: 1, Started: ago(time.Second)},
			}
			s.Peers = []localapi.Peer{
				{Device: "DDDDDDD-X", Short: "DDDDDDD", Addr: "192.168.1.20:7001", Online: true, Transport: "quic", LastSeen: statusNow, Folders: []string{""}},
				{Device: "EEEEEEE-X", Short: "EEEEEEE", Addr: "[fd00::1234:5678:9abc:def0]:7001", Online: true, Transport: "quic+tcp", LastSeen: statusNow, Folders: []string{""}},
				{Device: "FFFFFFF-X", Short: "FFFFFFF", Addr: "10.0.0.7:7001", LastSeen: ago(26 * time.Hour), Folders: []string{""}},
			}
			s.Conflicts = []localapi.Conflict{{Path: "report.sync-conflict-20261203-113000-DDDDDDD.odt", Original: "report.odt", Device: "DDDDDDD", Time: ago(30 * time.Minute)}}
			s.Errors = []localapi.Error{
				{Time: ago(10 * time.Minute), Path: "videos/big.mkv", Message: "fetch err=connection reset by peer"},
				{Time: ago(2 * time.Minute), Message: "tracker connection lost; reconnecting err=timeout: no recent network activity in=1.2s and a long tail of words that has to wrap onto the next lines of the screen without going past the edge"},
			}
			return s
		}},
		{"scanning", func() localapi.Status {
			s := baseStatus()
			s.Folders = []localapi.Folder{{Path: "/home/me/sync", State: localapi.StateScanning, ScanFiles: 5321, ScanBytes: 7 << 30}}
			return s
		}},
		{"paused", func() localapi.Status {
			s := baseStatus()
			s.Tracker = localapi.Tracker{Addr: "pi.local:7000", Since: ago(90 * time.Second)}
			s.Folders = []localapi.Folder{
				{Name: "photos", Path: "/media/usb/photos", State: localapi.StatePaused,
					Reason: "the folder has no marker (an empty mount point? a disk not mounted?)", Files: 10, Bytes: 100},
				{Name: "docs", Path: "/home/me/docs", State: localapi.StateError, Reason: "scan: open /home/me/docs: permission denied", Files: 1, FilesInSync: 1, Bytes: 5, BytesInSync: 5},
			}
			return s
		}},
		{"limited", func() localapi.Status {
			s := baseStatus()
			s.Folders = []localapi.Folder{{Path: "/home/me/sync", State: localapi.StateIdle, Files: 3, FilesInSync: 3, Bytes: 30, BytesInSync: 30}}
			s.Limits = &localapi.Limits{MaxSend: 2e6, LANUnlimited: true}
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := renderStatus(&b, tt.st(), statusNow, time.UTC); err != nil {
				t.Fatal(err)
			}
			for i, l := range strings.Split(b.String(), "\n") {
				if n := utf8.RuneCountInString(l); n > statusWidth {
					t.Errorf("line %d is %d columns: %q", i+1, n, l)
				}
			}
			golden := filepath.Join("testdata", "status", tt.name+".golden")
			if *updateGolden {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Errorf("rendering differs from %s:\n%s", golden, b.String())
			}
		})
	}
}

// TestShortenMiddle: long strings keep their head and tail.
func TestShortenMiddle(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 7, "abc…hij"},
		{"abcdefghij", 4, "abcd"},
		{"äöüäöüäöü", 5, "äö…öü"},
	}
	for _, tt := range tests {
		if got := shortenMiddle(tt.in, tt.n); got != tt.want {
			t.Errorf("shortenMiddle(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
