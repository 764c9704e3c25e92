package peer

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// unprivilegedEnv marks the copy of the test binary that runUnprivileged
// runs as nobody.
const unprivilegedEnv = "DARTSYNC_TEST_UNPRIVILEGED"

// nobody is the uid and gid runUnprivileged runs as.
const nobody = 65534

// runUnprivileged makes the calling test run without root's power over
// permissions (root reads and writes a chmod 000 file or a read-only
// directory, so a chmod would prove nothing). When the test process is not
// root, it returns false and the test goes on. When it is root, it runs
// the test (only) in a copy of the test binary as user nobody, fails or
// skips as that run did, and returns true: the caller returns at once.
func runUnprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return false
	}
	if os.Getenv(unprivilegedEnv) != "" {
		t.Fatal("still root in the unprivileged run")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("no test binary to run as nobody: %v", err)
	}
	// The copy, and the run's temporary directory, where nobody reaches
	// them (t.TempDir's parent is root's only).
	dir, err := os.MkdirTemp("", "dartsync-nobody-")
	mustDo(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	mustDo(t, os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "peer.test")
	copyExecutable(t, exe, bin)
	tmp := filepath.Join(dir, "tmp")
	mustDo(t, os.Mkdir(tmp, 0o700))
	mustDo(t, os.Chown(tmp, nobody, nobody))
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), unprivilegedEnv+"=1", "TMPDIR="+tmp, "HOME="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		t.Fatalf("the test as nobody: %v\n%s", err, out)
	case strings.Contains(string(out), "--- SKIP"):
		t.Skipf("skipped as nobody:\n%s", out)
	case !strings.Contains(string(out), "--- PASS"):
		t.Fatalf("the test as nobody did not run:\n%s", out)
	}
	t.Logf("passed as nobody (uid %d)", nobody)
	return true
}

// copyExecutable copies the file src to dst, executable by all.
func copyExecutable(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	mustDo(t, err)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	mustDo(t, err)
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	mustDo(t, out.Close())
}
