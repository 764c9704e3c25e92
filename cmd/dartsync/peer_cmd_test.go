package main

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestCheckStateDir: a state directory inside the folder is refused (exit
// status 2) unless it is the folder's own .dartsync or below it.
func TestCheckStateDir(t *testing.T) {
	root := filepath.FromSlash("/data/sync")
	tests := []struct {
		state   string
		wantErr bool
	}{
		{"/data/sync/.dartsync", false},
		{"/data/sync/.dartsync/peer", false},
		{"/home/u/.local/state/dartsync/photos", false},
		{"/data", false},
		{"/data/sync-state", false},
		{"/data/sync", true},
		{"/data/sync/state", true},
		{"/data/sync/docs/.dartsync", true},
		{"/data/sync/.dartsync2", true},
	}
	for _, tt := range tests {
		err := checkStateDir(root, filepath.FromSlash(tt.state))
		if (err != nil) != tt.wantErr {
			t.Errorf("checkStateDir(%s, %s) = %v, want error %v", root, tt.state, err, tt.wantErr)
		}
		var ee *exitError
		if err != nil && (!errors.As(err, &ee) || ee.code != 2) {
			t.Errorf("checkStateDir(%s, %s): %v is not exit status 2", root, tt.state, err)
		}
	}
}
