//go:build linux

package scan

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// permRootEnv names the tree TestWalkPermission checks when it runs as
// another user (see asNobody).
const permRootEnv = "DARTSYNC_SCAN_PERM_ROOT"

// TestWalkPermission: a directory that cannot be read is listed and
// skipped for its read error (nothing below it listed); in a directory
// that can be read but not searched, every name is skipped for its lstat
// error (a subdirectory also for its read error) and nothing below is
// listed; the rest of the tree is scanned. As root (which reads
// everything) the checks run in a copy of the test binary as nobody.
func TestWalkPermission(t *testing.T) {
	root := os.Getenv(permRootEnv)
	if root == "" {
		root = t.TempDir()
		for _, f := range []string{"locked/file", "noexec/f", "noexec/sub/g", "ok/file", "z"} {
			write(t, root, f, []byte("x"), 0o644)
		}
		for dir, mode := range map[string]os.FileMode{"locked": 0, "noexec": 0o644} {
			p := filepath.Join(root, dir)
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Chmod(p, 0o755) })
		}
		if os.Geteuid() == 0 {
			asNobody(t, root)
			return
		}
	}
	for _, w := range statWorkers {
		paths, res := listed(t, root, Options{PieceSize: ps, StatWorkers: w})
		want := []string{"locked", "locked", "noexec", "noexec/f", "noexec/sub", "noexec/sub", "ok", "ok/file", "z"}
		if !slices.Equal(paths, want) {
			t.Errorf("StatWorkers %d: listed %q, want %q", w, paths, want)
		}
		for _, p := range []string{"locked", "noexec", "ok", "ok/file", "z"} {
			if res.find(p) == nil {
				t.Errorf("StatWorkers %d: %s not listed", w, p)
			}
		}
		for _, s := range res.Skipped {
			if !errors.Is(s.Err, fs.ErrPermission) {
				t.Errorf("StatWorkers %d: %s skipped for %v, want permission denied", w, s.Path, s.Err)
			}
		}
	}
}

// asNobody runs this test again, on the tree at root, in a copy of the
// test binary as user and group 65534, and fails with its output if it
// fails.
func asNobody(t *testing.T, root string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "scan.test")
	copyFile(t, os.Args[0], bin, 0o755)
	for _, d := range []string{filepath.Dir(bin), filepath.Dir(filepath.Dir(bin)), root, filepath.Dir(root)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), permRootEnv+"="+root)
	cmd.Dir = filepath.Dir(bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("as nobody: the test did not run:\n%s", out)
	}
	t.Logf("as nobody:\n%s", out)
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
