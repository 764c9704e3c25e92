package peer

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/dartsync/dartsync/manifest"
)

// TestLocalSummary: a report logs one info line, whatever its size; a lone
// change names its path.
func TestLocalSummary(t *testing.T) {
	file := func(p string, size int64) *manifest.Manifest { return &manifest.Manifest{Path: p, Size: size} }
	gone := func(p string) *manifest.Manifest { return &manifest.Manifest{Path: p, Deleted: true} }
	tests := []struct {
		name    string
		changes []*manifest.Manifest
		want    string // the whole log; "" for none
	}{
		{"nothing", nil, ""},
		{"one edit", []*manifest.Manifest{file("a.txt", 5)}, `level=INFO msg="local changes reported" files=1 path=a.txt deleted=0 bytes=5` + "\n"},
		{"one deletion", []*manifest.Manifest{gone("a.txt")}, `level=INFO msg="local changes reported" files=1 path=a.txt deleted=1 bytes=0` + "\n"},
		{"many", []*manifest.Manifest{file("a", 1), file("b", 2), gone("c")}, `level=INFO msg="local changes reported" files=3 deleted=1 bytes=3` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
			var s localSummary
			for _, m := range tt.changes {
				s.add(m)
			}
			s.log(l)
			if got := buf.String(); got != tt.want {
				t.Errorf("logged %q, want %q", got, tt.want)
			}
			if strings.Count(buf.String(), "\n") > 1 {
				t.Errorf("more than one line")
			}
		})
	}
}
