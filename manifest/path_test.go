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
		{strings.Repeat("a", MaxPathLen), false},
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
		{strings.Repeat("a", MaxPathLen+1), true},
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
