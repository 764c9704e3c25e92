//go:build unix

package scan

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestScanSkipsSpecialAndUnreadable(t *testing.T) {
	root := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	write(t, root, "locked/file", []byte("x"), 0o644)
	write(t, root, "noread", []byte("x"), 0o000)
	os.Chmod(filepath.Join(root, "locked"), 0o000)
	defer os.Chmod(filepath.Join(root, "locked"), 0o755)
	res, err := Scan(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	errs := map[string]error{}
	for _, s := range res.Skipped {
		reasons[s.Path], errs[s.Path] = s.Reason, s.Err
	}
	if !strings.Contains(reasons["fifo"], "not a regular file") || errs["fifo"] != nil {
		t.Errorf("fifo: skipped %q", res.Skipped)
	}
	if os.Geteuid() == 0 {
		return // root reads everything
	}
	if _, ok := reasons["locked"]; !ok {
		t.Errorf("unreadable directory not skipped: %q", res.Skipped)
	}
	if _, ok := reasons["noread"]; !ok {
		t.Errorf("unreadable file not skipped: %q", res.Skipped)
	}
	for _, p := range []string{"locked", "noread"} {
		if !errors.Is(errs[p], fs.ErrPermission) {
			t.Errorf("%s: Skip.Err = %v, want permission denied", p, errs[p])
		}
	}
}
