package manifest

import (
	"errors"
	"strings"
	"testing"
)

func TestValidatePath(t *testing.T) {
	tests := []struct {
		path    string
		wantErr bool
	}{
		{"a", false},
		{"a/b/c.txt", false},
		{"dir with spaces/naïve 日本.txt", false},
		{".hidden", false},
		{"a/.dartsyncx", false},
		{"a/.dartsync/x", false},
		{"..a", false},
		{longPath(MaxPathLen), false},
		{strings.Repeat("a", MaxNameLen), false},
		{"d/" + strings.Repeat("a", MaxNameLen) + "/x", false},
		{strings.Repeat("日", MaxNameLen/3), false}, // 255 bytes of 3-byte runes
		{strings.Repeat("a", MaxNameLen+1), true},
		{"d/" + strings.Repeat("a", MaxNameLen+1) + "/x", true},
		{"d/" + strings.Repeat("日", MaxNameLen/3) + "a", true}, // 256 bytes
		{strings.Repeat("a", MaxPathLen), true},                // one name of 4096 bytes
		{"", true},
		{"/etc/passwd", true},
		{"..", true},
		{"../x", true},
		{"a/../../x", true},
		{"a/..", true},
		{".", true},
		{"./a", true},
		{"a//b", true},
		{"a/", true},
		{"a/./b", true},
		{"a\x00b", true},
		{"a\\b", true},
		{"C:x", true},
		{".dartsync", true},
		{".dartsync/state.db", true},
		{".DartSync/x", true},
		{"\xff\xfe", true},
		{longPath(MaxPathLen + 1), true},
	}
	for _, n := range []int{MaxPathLen, MaxPathLen + 1} {
		if got := len(longPath(n)); got != n {
			t.Fatalf("longPath(%d) has %d bytes", n, got)
		}
	}
	for _, tt := range tests {
		err := ValidatePath(tt.path)
		if (err != nil) != tt.wantErr {
			t.Errorf("ValidatePath(%q) = %v, wantErr %v", tt.path, err, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrBadPath) {
			t.Errorf("ValidatePath(%q) error %v does not wrap ErrBadPath", tt.path, err)
		}
	}
}

// longPath returns a path of exactly n bytes (n >= 1) made of names of at
// most MaxNameLen bytes.
func longPath(n int) string {
	var elems []string
	for left := n; left > 0; {
		k := min(MaxNameLen, left)
		if left-k == 1 { // no room for "/" plus a name: shorten this one
			k--
		}
		elems = append(elems, strings.Repeat("a", k))
		left -= k + 1 // the name and the "/" before the next one
	}
	return strings.Join(elems, "/")
}
