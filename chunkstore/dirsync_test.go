package chunkstore

import (
	"errors"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"
)

func TestDirSyncer(t *testing.T) {
	tests := []struct {
		name    string
		dir     func(t *testing.T) string
		callers int
		wantErr error
	}{
		{"one caller", func(t *testing.T) string { return t.TempDir() }, 1, nil},
		{"concurrent callers share fsyncs", func(t *testing.T) string { return t.TempDir() }, 32, nil},
		{"missing directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "gone") }, 4, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s dirSyncer
			dir := tt.dir(t)
			errs := make([]error, tt.callers)
			var wg sync.WaitGroup
			for i := range errs {
				wg.Go(func() { errs[i] = s.sync(dir) })
			}
			wg.Wait()
			for i, err := range errs {
				if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Errorf("caller %d: sync = %v, want %v", i, err, tt.wantErr)
				}
			}
			s.mu.Lock()
			left := len(s.dirs)
			s.mu.Unlock()
			if left != 0 {
				t.Errorf("%d directory entries left after every caller returned", left)
			}
		})
	}
}
